#!/usr/bin/env python3
"""k-fold cross-validation of run_classifier.py (UER-py 2020's competition kit): one model per fold, saved as
OUTPUT_MODEL_PATH with -fold_K before its suffix, and the out-of-fold probabilities of every training example,
in file order, saved with numpy.save to --train_features_path (the features of scripts/run_lgb.py)."""
import argparse

from uer.opts import finetune_opts, parse
from uer.layers.pooling import POOLINGS
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/classifier_model.bin", data_paths=False)
    parser.add_argument("--train_path", required=True, help="Training set, cut into --folds_num folds.")
    parser.add_argument("--folds_num", type=int, default=5)
    parser.add_argument("--train_features_path", required=True,
                        help="Where the out-of-fold probabilities go (.npy, training examples x labels).")
    parser.add_argument("--shuffle_folds", action="store_true",
                        help="Stratified folds shuffled with --seed (default: contiguous folds in file order).")
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sequence vector is formed.")
    parser.set_defaults(dropout=0.5)  # UER-py's cross-validation default (a config's dropout still wins)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.classification import read_classification, labels_num_of, classifier_loss, \
        classifier_evaluator
    from uer.finetune.cross_validation import cross_validate, save_features
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_classification(args.train_path, tokenizer, args.seq_length)
    args.labels_num = labels_num_of(args.train_path, train)
    args.labels_source = f"the labels of {args.train_path}"
    probabilities, scores = cross_validate(args, Classifier, vocab, train, classifier_loss(),
                                           classifier_evaluator)
    save_features(args.train_features_path, probabilities)
    accuracy, f1 = (sum(s[i] for s in scores) / len(scores) for i in (0, 1))
    print(f"{len(scores)} folds: mean accuracy {accuracy:.4f}, mean macro-F1 {f1:.4f}")


if __name__ == "__main__":
    run_main(main)
