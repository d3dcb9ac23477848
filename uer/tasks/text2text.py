"""Text-to-text fine-tuning (run_text2text.py and its inference): TSV rows text_a [text_b] label, the label being
the target text; an encoder-decoder model learns label given the text, and is scored on what it generates.

The task's scripts, run_text2text.py and inference/run_text2text_infer.py: its options, its fine-tuning and its
prediction."""
import argparse
import numpy as np
import torch

from uer.opts import finetune_opts, seq2seq_target_opts, inference_opts, beam_opts
from uer.generation.seq2seq import greedy_batch
from uer.finetune.data import read_tsv, encode_pairs, Examples
from uer.finetune.prediction import predict
from uer.finetune.metrics import bleu, rouge_l
from uer.model_saver import unwrap
from uer.core.constants import SEP_TOKEN
from uer.core.errors import UserInputError
from uer.text.hf_tokenizer import HfTokenizer
from uer.core.model_config import model_config


METRICS = ("exact_match", "bleu", "rouge_l")


class Text2textExamples(Examples):
    """Sources as Examples; `targets` (an Examples too) holds each target's ids ending with the end token."""

    targets = None


def encode_sources(tokenizer, texts_a, texts_b=None, seq_length=None):
    """Source ids and first-segment lengths: a HF tokenizer's own encoding (its special tokens, as transformers
    adds them), else [CLS] a [SEP] (b [SEP]); cut to seq_length unless it is None."""
    if not isinstance(tokenizer, HfTokenizer):
        return encode_pairs(tokenizer, texts_a, texts_b, seq_length)
    pairs = zip(texts_a, texts_b) if texts_b is not None else ((a,) for a in texts_a)
    sequences = [tokenizer.hf.encode(*p).ids[:seq_length] for p in pairs]
    return sequences, [len(s) for s in sequences]


def encode_target(tokenizer, text, tgt_seq_length):
    """Target ids ending with the end token, at most tgt_seq_length of them."""
    if isinstance(tokenizer, HfTokenizer):
        ids = tokenizer.hf.encode(text).ids
        return ids[:tgt_seq_length - 1] + ids[-1:] if len(ids) > tgt_seq_length else ids
    return tokenizer.encode(text)[:tgt_seq_length - 1] + [tokenizer.vocab.get(SEP_TOKEN)]


def read_text2text(path, tokenizer, tgt_tokenizer, seq_length, tgt_seq_length, with_targets=True):
    columns = read_tsv(path, ["text_a"] + (["label"] if with_targets else []), optional=["text_b"])
    sources, a_lens = encode_sources(tokenizer, columns["text_a"], columns.get("text_b"), seq_length)
    examples = Text2textExamples(sources, a_lens, {"line": np.asarray(columns["line"])})
    if with_targets:
        for text, no in zip(columns["label"], columns["line"]):
            if not text.strip():
                raise UserInputError(f"{path}:{no}: empty label; the label column holds the target text")
        examples.targets = Examples([encode_target(tgt_tokenizer, t, tgt_seq_length) for t in columns["label"]],
                                    np.zeros(len(columns["label"])))
    return examples


def seq2seq_builder(args, tgt_vocab):
    """The FineTuner's model class: an encoder-decoder model of the config, its lm target over tgt_vocab."""
    from uer.model_builder import build_model
    if not model_config(args).decoder:
        raise UserInputError(f"{args.config_path}: not an encoder-decoder model (no \"decoder\"); text-to-text "
                             "fine-tuning needs one (e.g. models/t5_small_config.json)")

    def build(args, vocab_size, vocab):
        return build_model(model_config(args, target="lm"), vocab_size, vocab, len(tgt_vocab))
    return build


def target_batch(examples, indices, device, start):
    """{"tgt_in", "tgt_seg", "lm"}: the decoder reads [start] + target, and predicts target (0 = padding)."""
    labels, _ = examples.targets.batch(indices, device)
    tgt_in = torch.cat([torch.full_like(labels[:, :1], start), labels[:, :-1]], 1)
    return {"tgt_in": tgt_in, "tgt_seg": (labels > 0).long(), "lm": labels}


def text2text_loss(start):
    def loss_of(model, examples, indices, src, seg):
        """(mean loss over the batch's target tokens, their number)."""
        part = model(src, target_batch(examples, indices, src.device, start), seg)["lm"]
        count = part["count"].sum()
        return part["loss_sum"].sum() / count.clamp(min=1), count
    return loss_of


def generations(batch_size, runtime, start, end, max_new_tokens):
    """predict() outputs: the greedy target ids of each example."""
    def outputs(model, examples, indices, src, seg):
        return greedy_batch(unwrap(model), src, seg, start, end, max_new_tokens)
    return lambda model, examples: predict(model, examples, batch_size, runtime, outputs, desc="generating")


def scores(hypotheses, references, tgt_vocab, metric):
    """Figures of generated against reference id lists: the chosen metric first (it picks the best epoch), then
    exact match."""
    figures = {}

    def words(ids):
        return [tgt_vocab.i2w[i] for i in ids]
    if metric == "bleu":
        figures["bleu"] = bleu([words(h) for h in hypotheses], [words(r) for r in references])
    elif metric == "rouge_l":
        figures["rouge_l"] = rouge_l(hypotheses, references)
    figures["exact_match"] = float(np.mean([h == r for h, r in zip(hypotheses, references)]))
    return figures


def text2text_evaluator(batch_size, runtime, start, end, max_new_tokens, tgt_vocab, metric):
    generate = generations(batch_size, runtime, start, end, max_new_tokens)

    def evaluate(model, examples, split):
        hypotheses = generate(model, examples)
        references = [examples.targets.tokens[s:s + n - 1].tolist()
                      for s, n in zip(examples.targets.start, examples.targets.length)]
        figures = scores(hypotheses, references, tgt_vocab, metric)
        print(f"{split}: " + ", ".join(f"{k} {v:.4f}" for k, v in figures.items()) + f" ({len(references)} examples)",
              flush=True)
        return figures
    return evaluate


def fine_tune_text2text(args):
    """run_text2text.py: read the TSVs, fine-tune, keep the best epoch by args.metric on dev."""
    from uer.generation.seq2seq import start_and_end
    from uer.finetune.loop import FineTuner
    from uer.text.tokenizers import load_vocab_and_tokenizer, load_target_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    tgt_vocab, tgt_tokenizer = load_target_tokenizer(args, vocab, tokenizer)
    args.tgt_seq_length = args.tgt_seq_length or args.seq_length
    train, dev, test = (read_text2text(path, tokenizer, tgt_tokenizer, args.seq_length, args.tgt_seq_length)
                        if path else None for path in (args.train_path, args.dev_path, args.test_path))
    print(f"{len(train)} training examples")
    start, end = start_and_end(args, tgt_vocab)
    tuner = FineTuner(args, seq2seq_builder(args, tgt_vocab), vocab, keep_heads=True)
    evaluate = text2text_evaluator(args.batch_size, tuner.runtime, start, end,
                                   args.max_new_tokens or args.tgt_seq_length, tgt_vocab, args.metric)
    return tuner.run(train, dev, test, text2text_loss(start), evaluate)


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/text2text_model.bin", learning_rate=1e-4, batch_size=32)
    seq2seq_target_opts(parser)
    parser.add_argument("--metric", choices=["exact_match", "bleu", "rouge_l"], default="exact_match",
                        help="Dev score that picks the best epoch (exact match is reported too): bleu is sacrebleu's "
                             "corpus BLEU (0-100) over the target tokens, rouge_l the mean ROUGE-L F1 (0-1).")
    return parser


def fine_tune(args):
    fine_tune_text2text(args)


def inference_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser)
    seq2seq_target_opts(parser)
    beam_opts(parser)
    return parser


def infer(args):
    from uer.generation.seq2seq import start_and_end, beam_one, decode_target, greedy_batch
    from uer.finetune.prediction import predict
    from uer.finetune.inference import fine_tuned
    from uer.core.errors import UserInputError
    from uer.core.fileutil import atomic_open
    from uer.text.tokenizers import load_vocab_and_tokenizer, load_target_tokenizer
    if args.beam_width < 1:
        raise UserInputError("--beam_width must be at least 1")
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    tgt_vocab, tgt_tokenizer = load_target_tokenizer(args, vocab, tokenizer)
    args.max_new_tokens = args.max_new_tokens or args.tgt_seq_length or args.seq_length
    examples = read_text2text(args.test_path, tokenizer, tgt_tokenizer, args.seq_length, None, with_targets=False)
    model, device = fine_tuned(args, seq2seq_builder(args, tgt_vocab), vocab, parallel=False)
    start, end = start_and_end(args, tgt_vocab)

    def outputs(model, examples, indices, src, seg):
        if args.beam_width == 1:
            return greedy_batch(model, src, seg, start, end, args.max_new_tokens)
        return [beam_one(model, row[:int(n)][None], start, end, args) for row, n in zip(src, (seg > 0).sum(1))]
    generated = predict(model, examples, args.batch_size if args.beam_width == 1 else 1, device, outputs,
                        desc="generating")
    with atomic_open(args.prediction_path, "w") as f:
        f.write("".join(decode_target(tgt_tokenizer, ids) + "\n" for ids in generated))
    print(f"wrote {len(generated)} generated texts to {args.prediction_path}")
