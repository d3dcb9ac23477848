#!/usr/bin/env python3
"""LightGBM stacking (UER-py 2020's competition kit): a booster learns the labels of --train_path from the
out-of-fold probabilities of --models_num cross-validated models (run_classifier_cv.py), then predicts
--test_path from their test features (inference/run_classifier_infer_cv.py); prints the confusion matrix,
per-label precision/recall/F1, accuracy and macro-F1 on the test set."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    from uer.finetune.stacking import booster_opts
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--train_path", required=True, help="Training TSV (its label column).")
    parser.add_argument("--test_path", required=True, help="Test TSV (its label column).")
    parser.add_argument("--train_features_path", required=True, help="Folder of train_features_{i}.npy.")
    parser.add_argument("--test_features_path", required=True, help="Folder of test_features_{i}.npy.")
    parser.add_argument("--models_num", type=int, default=64, help="Feature files per split.")
    parser.add_argument("--labels_num", type=int, required=True)
    booster_opts(parser)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.finetune.metrics import classification_report, macro_f1
    from uer.finetune.stacking import lightgbm, stacked_features, labels_of, booster_params, train_booster
    lgb = lightgbm("scripts/run_lgb.py")
    train_labels, test_labels = labels_of(args.train_path, args.labels_num), labels_of(args.test_path,
                                                                                         args.labels_num)
    train = stacked_features(args.train_features_path, "train", args.models_num, len(train_labels))
    test = stacked_features(args.test_features_path, "test", args.models_num, len(test_labels))
    booster = train_booster(lgb, booster_params(args), train, train_labels, args.boost_rounds)
    pred = booster.predict(test).argmax(1)
    accuracy, report = classification_report(pred, test_labels, args.labels_num)
    print(f"test:\n{report}\nmacro-F1 {macro_f1(pred, test_labels, args.labels_num):.4f}")


if __name__ == "__main__":
    run_main(main)
