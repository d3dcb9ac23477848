#!/usr/bin/env python3
"""Predict labels (and optionally logits and probabilities) with a model fine-tuned by run_classifier.py.

Input: a TSV with a header row naming text_a (and text_b for pairs). Output: a TSV with the columns label,
logits (--output_logits) and prob (--output_prob); logits and probabilities are space-separated."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_opts, parse  # noqa: E402
from uer.layers.pooling import POOLINGS  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser)
    parser.add_argument("--labels_num", type=int, required=True, help="Number of labels of the model.")
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="As in fine-tuning.")
    parser.add_argument("--output_logits", action="store_true", help="Write the logits column.")
    parser.add_argument("--output_prob", action="store_true", help="Write the prob column.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    import torch
    from uer.finetune.classification import read_classification, logits_of
    from uer.finetune.loop import place, predict
    from uer.model_loader import load_model
    from uer.models.classifier import Classifier
    from uer.utils.fileutil import atomic_open
    from uer.utils.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    examples = read_classification(args.test_path, tokenizer, args.seq_length, with_labels=False)
    model = Classifier(args, len(vocab), vocab)
    load_model(model, args.load_model_path)
    model, device = place(model)
    logits = torch.stack(predict(model, examples, args.batch_size, device, logits_of))
    probs = torch.softmax(logits, -1)
    with atomic_open(args.prediction_path, "w") as f:
        f.write("\t".join(["label"] + ["logits"] * args.output_logits + ["prob"] * args.output_prob) + "\n")
        for row_logits, row_probs in zip(logits.tolist(), probs.tolist()):
            fields = [str(max(range(len(row_logits)), key=row_logits.__getitem__))]
            if args.output_logits:
                fields.append(" ".join(f"{v:.6g}" for v in row_logits))
            if args.output_prob:
                fields.append(" ".join(f"{v:.6g}" for v in row_probs))
            f.write("\t".join(fields) + "\n")
    print(f"wrote {len(examples)} predictions to {args.prediction_path}")


if __name__ == "__main__":
    run_main(main)
