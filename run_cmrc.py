#!/usr/bin/env python3
"""Fine-tune extractive reading comprehension on SQuAD-style JSON (CMRC2018): long contexts are cut into
windows of --seq_length with a stride of --doc_stride; reports CMRC2018's EM and F1."""
import argparse

from uer.opts import finetune_opts, parse
from uer.finetune.reading_opts import reading_opts
from uer.utils.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/cmrc_model.bin", batch_size=8, epochs_num=2)
    reading_opts(parser)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.loop import FineTuner
    from uer.finetune.reading import read_squad, build_windows, span_loss, reading_evaluator
    from uer.models.classifier import SpanReader
    from uer.utils.tokenizers import load_vocab
    vocab, _ = load_vocab(args)

    def load(path):
        questions = read_squad(path)
        examples, offsets = build_windows(questions, vocab, args.seq_length, args.doc_stride)
        return questions, examples, offsets

    train, dev = load(args.train_path), load(args.dev_path)
    test = load(args.test_path) if args.test_path else None
    print(f"{len(train[0])} training questions in {len(train[1])} windows")
    tuner = FineTuner(args, SpanReader(args, len(vocab), vocab))
    tuner.run(train[1], dev, test, span_loss, reading_evaluator(args.batch_size, tuner.device, args.max_answer_length))


if __name__ == "__main__":
    run_main(main)
