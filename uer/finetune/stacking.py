"""Stacking the fold models' probabilities with LightGBM (scripts/run_lgb.py, scripts/run_bayesopt.py): the
features of --models_num models, FOLDER/train_features_{i}.npy and FOLDER/test_features_{i}.npy, side by side."""
import os

import numpy as np

from uer.finetune.data import read_tsv, parse_labels
from uer.core.errors import UserInputError

# Boosting and tree settings of run_lgb.py: DART boosting, multiclass, as UER-py 2020's; the rest are flags.
FIXED = {"boosting_type": "dart", "objective": "multiclass", "verbose": -1, "num_threads": 0}


def lightgbm(script):
    try:
        import lightgbm as lgb
    except ImportError:
        raise UserInputError(f"{script} needs LightGBM: pip install lightgbm") from None
    return lgb


def stacked_features(folder, split, models_num, rows=None):
    """[examples, models_num x labels] from FOLDER/{split}_features_{i}.npy, i < models_num."""
    parts = []
    for i in range(models_num):
        path = os.path.join(folder, f"{split}_features_{i}.npy")
        if not os.path.exists(path):
            raise UserInputError(f"{path}: not found (--models_num {models_num} needs {split}_features_0.npy .. "
                                 f"{split}_features_{models_num - 1}.npy in {folder})")
        part = np.load(path, allow_pickle=False)
        if part.ndim != 2 or (parts and len(part) != len(parts[0])) or (rows is not None and len(part) != rows):
            expected = rows if rows is not None else len(parts[0]) if parts else "n"
            raise UserInputError(f"{path}: shape {part.shape}, expected {expected} rows x labels (one row per "
                                 "example, in file order)")
        parts.append(part)
    return np.concatenate(parts, axis=1)


def labels_of(path, labels_num):
    columns = read_tsv(path, ["label"])
    return parse_labels(path, columns["label"], columns["line"], labels_num)


def booster_params(args):
    """LightGBM parameters from run_lgb.py's flags (or run_bayesopt.py's trial)."""
    return dict(FIXED, num_class=args.labels_num, learning_rate=args.learning_rate, num_leaves=args.num_leaves,
                max_depth=args.max_depth, min_data_in_leaf=args.min_data_in_leaf,
                feature_fraction=args.feature_fraction, bagging_fraction=args.bagging_fraction, bagging_freq=1,
                lambda_l2=args.lambda_l2, seed=args.seed)


def train_booster(lgb, params, features, labels, rounds):
    return lgb.train(params, lgb.Dataset(features, labels), num_boost_round=rounds)


def booster_opts(parser):
    """The tree settings run_lgb.py takes (run_bayesopt.py searches them and prints them as these flags)."""
    parser.add_argument("--learning_rate", type=float, default=0.05)
    parser.add_argument("--num_leaves", type=int, default=31)
    parser.add_argument("--max_depth", type=int, default=6)
    parser.add_argument("--min_data_in_leaf", type=int, default=20)
    parser.add_argument("--feature_fraction", type=float, default=0.9)
    parser.add_argument("--bagging_fraction", type=float, default=0.9)
    parser.add_argument("--lambda_l2", type=float, default=1.0)
    parser.add_argument("--boost_rounds", type=int, default=200, help="Boosting rounds.")
    parser.add_argument("--seed", type=int, default=7)
