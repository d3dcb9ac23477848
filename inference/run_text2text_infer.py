#!/usr/bin/env python3
"""Generate a target text for each row of --test_path (a TSV with a header row naming text_a, and text_b for
pairs) with a model fine-tuned by run_text2text.py; writes one generated text a line, in input order.

Decoding: greedy (the default, in batches of --batch_size), or beam search with --beam_width B > 1 and
--length_penalty, as scripts/generate_seq2seq.py."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_opts, seq2seq_target_opts, beam_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser)
    seq2seq_target_opts(parser)
    beam_opts(parser)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.generation.seq2seq import start_and_end, beam_one, decode_target, greedy_batch
    from uer.finetune.prediction import predict
    from uer.runtime.runtime import place
    from uer.finetune.text2text import read_text2text, seq2seq_builder
    from uer.finetune.inference import load_fine_tuned
    from uer.core.errors import UserInputError
    from uer.core.fileutil import atomic_open
    from uer.text.tokenizers import load_vocab_and_tokenizer, load_target_tokenizer
    if args.beam_width < 1:
        raise UserInputError("--beam_width must be at least 1")
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    tgt_vocab, tgt_tokenizer = load_target_tokenizer(args, vocab, tokenizer)
    args.max_new_tokens = args.max_new_tokens or args.tgt_seq_length or args.seq_length
    examples = read_text2text(args.test_path, tokenizer, tgt_tokenizer, args.seq_length, None, with_targets=False)
    model = seq2seq_builder(args, tgt_vocab)(args, len(vocab), vocab)
    load_fine_tuned(model, args)
    model, device = place(model, parallel=False)
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


if __name__ == "__main__":
    run_main(main)
