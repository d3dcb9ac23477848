"""The text2text task, run_text2text.py and inference/run_text2text_infer.py: its options, its fine-tuning and its
prediction."""
import argparse

from uer.opts import finetune_opts, seq2seq_target_opts, inference_opts, beam_opts


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/text2text_model.bin", learning_rate=1e-4, batch_size=32)
    seq2seq_target_opts(parser)
    parser.add_argument("--metric", choices=["exact_match", "bleu", "rouge_l"], default="exact_match",
                        help="Dev score that picks the best epoch (exact match is reported too): bleu is sacrebleu's "
                             "corpus BLEU (0-100) over the target tokens, rouge_l the mean ROUGE-L F1 (0-1).")
    return parser


def fine_tune(args):
    from uer.finetune.text2text import fine_tune_text2text
    fine_tune_text2text(args)


def inference_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser)
    seq2seq_target_opts(parser)
    beam_opts(parser)
    return parser


def predict(args):
    from uer.generation.seq2seq import start_and_end, beam_one, decode_target, greedy_batch
    from uer.finetune.prediction import predict
    from uer.finetune.text2text import read_text2text, seq2seq_builder
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
