#!/usr/bin/env python3
"""Predict scores with a model fine-tuned by run_regression.py.

Input: a TSV with a header row naming text_a (and text_b for pairs). Output: a TSV with the column label (the
predicted number)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_parser, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    return inference_parser(__doc__, pooling="first")


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.classification import logits_of
    from uer.finetune.inference import predict_test_set, write_predictions
    from uer.finetune.regression import read_scored
    from uer.models.classifier import Classifier
    args.labels_num = 1
    scores = predict_test_set(args, Classifier, lambda tokenizer: read_scored(args.test_path, tokenizer,
                                                                              args.seq_length, with_labels=False),
                              logits_of)
    write_predictions(args.prediction_path, ["label"], [[f"{float(v):.6g}"] for v in scores])


if __name__ == "__main__":
    run_main(main)
