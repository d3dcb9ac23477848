#!/usr/bin/env python3
"""Predict the labels of each text with a model fine-tuned by run_classifier_multi_label.py.

Input: a TSV with a header row naming text_a (and text_b for pairs). Output: a TSV with the column label (the
comma-separated ids of the labels at probability >= 0.5, empty for none) and, with --output_prob, prob (every
label's probability, space-separated)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_parser, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = inference_parser(__doc__, pooling="first", labels_num=True)
    parser.add_argument("--output_prob", action="store_true", help="Write the prob column.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    import torch
    from uer.finetune.classification import logits_of
    from uer.finetune.inference import predict_test_set, write_predictions, numbers
    from uer.finetune.multi_label import read_multi_label, THRESHOLD
    from uer.models.classifier import Classifier
    logits = predict_test_set(args, Classifier, lambda tokenizer: read_multi_label(
        args.test_path, tokenizer, args.seq_length, with_labels=False), logits_of)
    probs = torch.sigmoid(torch.stack(logits)).tolist()
    rows = [[",".join(str(k) for k, p in enumerate(row) if p >= THRESHOLD)] + [numbers(row)] * args.output_prob
            for row in probs]
    write_predictions(args.prediction_path, ["label"] + ["prob"] * args.output_prob, rows)


if __name__ == "__main__":
    run_main(main)
