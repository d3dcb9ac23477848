#!/usr/bin/env python3
"""Tag sentences with a model fine-tuned by run_ner.py.

Input: a TSV with a header row naming text_a (space-separated tokens). Output: a TSV with the column
pred_label, one space-separated tag per input token."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser)
    parser.add_argument("--label2id_path", required=True, help="JSON object: tag -> id (as in fine-tuning).")
    parser.add_argument("--crf_target", action="store_true", help="The model was fine-tuned with --crf_target.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.runtime.runtime import place
    from uer.finetune.tagging import tagging_setup, read_tagging, predicted_tags, check_crf_flag
    from uer.finetune.inference import load_fine_tuned
    from uer.model_loader import read_state_dict
    from uer.models.tagger import Tagger
    from uer.core.fileutil import atomic_open
    vocab, id2label = tagging_setup(args)
    examples = read_tagging(args.test_path, vocab, args.seq_length)
    check_crf_flag(read_state_dict(args.load_model_path, mmap=True), args.load_model_path, args.crf_target)
    model = Tagger(args, len(vocab), vocab)
    load_fine_tuned(model, args)
    model, device = place(model)
    tags = predicted_tags(model, examples, args.batch_size, device, id2label)
    with atomic_open(args.prediction_path, "w") as f:
        f.write("pred_label\n")
        f.writelines(" ".join(row) + "\n" for row in tags)
    print(f"wrote {len(tags)} predictions to {args.prediction_path}")


if __name__ == "__main__":
    run_main(main)
