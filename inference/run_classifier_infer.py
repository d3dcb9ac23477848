#!/usr/bin/env python3
"""Predict labels (and optionally logits and probabilities) with a model fine-tuned by run_classifier.py.

Input: a TSV with a header row naming text_a (and text_b for pairs). Output: a TSV with the columns label,
logits (--output_logits) and prob (--output_prob); logits and probabilities are space-separated."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_parser, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    return inference_parser(__doc__, pooling="first", labels_num=True, class_outputs=True)


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.classification import read_classification, logits_of
    from uer.finetune.inference import predict_test_set, write_class_predictions
    from uer.models.classifier import Classifier
    write_class_predictions(args, predict_test_set(
        args, Classifier, lambda tokenizer: read_classification(args.test_path, tokenizer, args.seq_length,
                                                                with_labels=False), logits_of))


if __name__ == "__main__":
    run_main(main)
