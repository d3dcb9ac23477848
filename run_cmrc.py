#!/usr/bin/env python3
"""Fine-tune extractive reading comprehension on SQuAD-style JSON (CMRC2018): long contexts are cut into
windows of --seq_length with a stride of --doc_stride; reports CMRC2018's EM and F1."""
import argparse

from uer.opts import finetune_opts, reading_opts, parse
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/cmrc_model.bin", learning_rate=3e-5, batch_size=64,
                  epochs_num=3, seq_length=100)
    reading_opts(parser)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.loop import fine_tune_task
    from uer.finetune.reading import read_squad, ReadingSet, span_loss, reading_evaluator
    from uer.models.classifier import SpanReader
    from uer.text.tokenizers import load_vocab
    vocab, _ = load_vocab(args)
    fine_tune_task(args, SpanReader, vocab,
                   lambda path: ReadingSet(read_squad(path), vocab, args.seq_length, args.doc_stride), span_loss,
                   lambda runtime: reading_evaluator(args.batch_size, runtime, args.max_answer_length))


if __name__ == "__main__":
    run_main(main)
