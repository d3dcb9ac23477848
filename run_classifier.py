#!/usr/bin/env python3
"""Fine-tune a classifier (single sentences or pairs) on TSV files with a header row: label, text_a[, text_b]
(and logits, for --soft_targets)."""
import argparse

from uer.opts import finetune_opts, parse
from uer.layers.pooling import POOLINGS
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/classifier_model.bin")
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sequence vector is formed.")
    parser.add_argument("--soft_targets", action="store_true", help="Also learn the teacher's logits (MSE).")
    parser.add_argument("--soft_alpha", type=float, default=0.5, help="Weight of the soft-target loss.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.classification import (read_classification, labels_num_of, warn_unseen_labels,
                                             classifier_loss, classifier_evaluator)
    from uer.finetune.loop import FineTuner
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_classification(args.train_path, tokenizer, args.seq_length, soft_targets=args.soft_targets)
    args.labels_num = labels_num_of(args.train_path, train)
    dev = read_classification(args.dev_path, tokenizer, args.seq_length, args.labels_num)
    test = read_classification(args.test_path, tokenizer, args.seq_length, args.labels_num) if args.test_path \
        else None
    for path, examples in ((args.dev_path, dev), (args.test_path, test)):
        if examples is not None:
            warn_unseen_labels(path, examples, args.train_path, train)
    args.labels_source = f"the labels of {args.train_path}"
    print(f"{len(train)} training examples, {args.labels_num} labels")
    tuner = FineTuner(args, Classifier, vocab)
    tuner.run(train, dev, test, classifier_loss(args.soft_targets, args.soft_alpha),
              classifier_evaluator(args.batch_size, tuner.runtime, args.labels_num))


if __name__ == "__main__":
    run_main(main)
