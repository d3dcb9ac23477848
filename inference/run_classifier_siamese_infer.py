#!/usr/bin/env python3
"""Predict the labels of text pairs with a model fine-tuned by run_classifier_siamese.py.

Input: a TSV with a header row naming text_a and text_b. Output: a TSV with the columns label, logits
(--output_logits) and prob (--output_prob); logits and probabilities are space-separated."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_parser, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = inference_parser(__doc__, pooling="mean", labels_num=True, class_outputs=True)
    parser.add_argument("--separate_towers", action="store_true", help="As in fine-tuning.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.classification import logits_of
    from uer.finetune.inference import predict_test_set, write_class_predictions
    from uer.finetune.pairs import read_text_pairs
    from uer.models.sentence import SiameseClassifier
    write_class_predictions(args, predict_test_set(
        args, SiameseClassifier, lambda tokenizer: read_text_pairs(args.test_path, tokenizer, args.seq_length),
        logits_of))


if __name__ == "__main__":
    run_main(main)
