#!/usr/bin/env python3
"""Bayesian search of run_lgb.py's tree settings (UER-py 2020's competition kit, with the bayesian-optimization
package): each trial is the mean accuracy of --folds_num-fold cross-validation of the booster over the stacked
training features; prints the best trial as run_lgb.py flags."""
import argparse
import os
import sys
from argparse import Namespace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402

# Search ranges (integers are rounded).
BOUNDS = {"learning_rate": (0.01, 0.3), "num_leaves": (8, 128), "max_depth": (3, 12), "min_data_in_leaf": (5, 60),
          "feature_fraction": (0.5, 1.0), "bagging_fraction": (0.5, 1.0), "lambda_l2": (0.0, 10.0)}
INTEGERS = ("num_leaves", "max_depth", "min_data_in_leaf")


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--train_path", required=True, help="Training TSV (its label column).")
    parser.add_argument("--train_features_path", required=True, help="Folder of train_features_{i}.npy.")
    parser.add_argument("--models_num", type=int, default=64, help="Feature files.")
    parser.add_argument("--folds_num", type=int, default=5, help="Cross-validation folds of each trial.")
    parser.add_argument("--labels_num", type=int, required=True)
    parser.add_argument("--epochs_num", type=int, default=300, help="Trials after the random ones.")
    parser.add_argument("--init_points", type=int, default=5, help="Random trials first.")
    parser.add_argument("--boost_rounds", type=int, default=200, help="Boosting rounds of each booster.")
    parser.add_argument("--seed", type=int, default=7)
    return parser


def settings(args, trial):
    return Namespace(**{k: int(round(v)) if k in INTEGERS else v for k, v in trial.items()},
                     labels_num=args.labels_num, seed=args.seed)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.finetune.cross_validation import fold_of
    from uer.finetune.stacking import lightgbm, stacked_features, labels_of, booster_params, train_booster
    from uer.core.errors import UserInputError
    lgb = lightgbm("scripts/run_bayesopt.py")
    try:
        from bayes_opt import BayesianOptimization
    except ImportError:
        raise UserInputError("scripts/run_bayesopt.py needs bayesian-optimization: pip install "
                             "bayesian-optimization") from None
    labels = labels_of(args.train_path, args.labels_num)
    features = stacked_features(args.train_features_path, "train", args.models_num, len(labels))
    folds = fold_of(labels, args.folds_num, shuffle=True, seed=args.seed)

    def cv_accuracy(**trial):
        params = booster_params(settings(args, trial))
        correct = 0
        for k in range(args.folds_num):
            held = folds == k
            booster = train_booster(lgb, params, features[~held], labels[~held], args.boost_rounds)
            correct += int((booster.predict(features[held]).argmax(1) == labels[held]).sum())
        return correct / len(labels)

    search = BayesianOptimization(f=cv_accuracy, pbounds=BOUNDS, random_state=args.seed, verbose=1)
    search.maximize(init_points=args.init_points, n_iter=args.epochs_num)
    best = settings(args, search.max["params"])
    flags = " ".join(f"--{k} {getattr(best, k):.4g}" if k not in INTEGERS else f"--{k} {getattr(best, k)}"
                     for k in BOUNDS)
    print(f"best cross-validated accuracy {search.max['target']:.4f}: scripts/run_lgb.py ... {flags} "
          f"--boost_rounds {args.boost_rounds}")


if __name__ == "__main__":
    run_main(main)
