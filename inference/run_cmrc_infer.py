#!/usr/bin/env python3
"""Answer SQuAD-style questions (CMRC2018 JSON; answers not needed) with a model fine-tuned by run_cmrc.py.
Writes a JSON object {question id: answer text}."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_opts, reading_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser, seq_length=100)
    reading_opts(parser)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.runtime.runtime import place
    from uer.finetune.reading import read_squad, ReadingSet, predicted_answers
    from uer.finetune.inference import load_fine_tuned
    from uer.models.classifier import SpanReader
    from uer.core.fileutil import atomic_open
    from uer.text.tokenizers import load_vocab
    vocab, _ = load_vocab(args)
    questions = read_squad(args.test_path, with_answers=False)
    data = ReadingSet(questions, vocab, args.seq_length, args.doc_stride, with_answers=False)
    model = SpanReader(args, len(vocab), vocab)
    load_fine_tuned(model, args)
    model, device = place(model)
    answers = predicted_answers(model, data, args.batch_size, device, args.max_answer_length)
    with atomic_open(args.prediction_path, "w") as f:
        json.dump({q["id"]: a for q, a in zip(questions, answers)}, f, ensure_ascii=False, indent=1)
    print(f"wrote {len(answers)} answers to {args.prediction_path}")


if __name__ == "__main__":
    run_main(main)
