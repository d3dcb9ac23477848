"""k-fold cross-validation of a classifier (run_classifier_cv.py, UER-py 2020's competition kit): a fresh model
per fold, trained on the other folds, keeps its best epoch on its own fold and predicts it; the out-of-fold
probabilities of every training example, in file order, are the features a stacker (scripts/run_lgb.py) learns
from. Folds are contiguous in file order by default (as the original: a user's stacking features depend on it),
or with --shuffle_folds stratified by label and shuffled with --seed."""
import copy
import os
import sys

import numpy as np
import torch

from uer.finetune.loop import FineTuner
from uer.finetune.prediction import predict
from uer.finetune.metrics import classification_report, macro_f1
from uer.core.errors import UserInputError
from uer.runtime import distributed


def fold_path(model_path, k):
    """OUTPUT_MODEL_PATH with -fold_K before its suffix: models/classifier_model-fold_0.bin."""
    stem, suffix = os.path.splitext(model_path)
    return f"{stem}-fold_{k}{suffix}"


def fold_of(labels, folds_num, shuffle=False, seed=7):
    """The fold of each example: contiguous blocks of n // folds_num + 1 in file order (UER-py's), or, shuffled,
    each label's examples dealt round-robin over the folds (stratified)."""
    n = len(labels)
    if folds_num < 2 or folds_num > n:
        raise UserInputError(f"--folds_num {folds_num}: needs 2 to {n} (the training examples)")
    if not shuffle:
        folds = np.arange(n) // (n // folds_num + 1)
        if folds.max() + 1 < folds_num:
            print(f"warning: --folds_num {folds_num} with {n} examples makes {folds.max() + 1} contiguous folds "
                  f"(UER-py's fold size, n // folds_num + 1 = {n // folds_num + 1}); --shuffle_folds makes "
                  f"{folds_num}", file=sys.stderr)
        return folds
    rng = np.random.default_rng(seed)
    folds = np.empty(n, dtype=np.int64)
    start = 0
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        folds[members] = (start + np.arange(len(members))) % folds_num
        start += len(members)
    return folds


def subset(examples, indices):
    """The examples at `indices` (an Examples with the same fields)."""
    part = copy.copy(examples)
    part.length, part.start, part.a_len = examples.length[indices], examples.start[indices], examples.a_len[indices]
    part.fields = {k: v[indices] for k, v in examples.fields.items()}
    return part


def cross_validate(args, model_class, vocab, train, loss_of, evaluator, logits_of, labels_num, labels_source):
    """Train one model per fold (the task's loss_of, evaluator and logits_of, a model's predict() outputs; labels_num
    and where it came from); returns (out-of-fold probabilities [n, labels] in file order, per-fold (accuracy,
    macro-F1))."""
    labels = train.fields["label"]
    folds = fold_of(labels, args.folds_num, args.shuffle_folds, args.seed)
    probabilities = np.zeros((len(train), labels_num), dtype=np.float32)
    scores = []
    for k in range(folds.max() + 1):
        held_out = np.flatnonzero(folds == k)
        fold_args = copy.copy(args)
        fold_args.output_model_path = fold_path(args.output_model_path, k)
        fold_args.metrics_path = args.metrics_path and fold_path(args.metrics_path, k)
        print(f"fold {k}: training on {len(train) - len(held_out)} examples, {len(held_out)} held out",
              flush=True)
        tuner = FineTuner(fold_args, model_class, vocab, labels_num=labels_num, labels_source=labels_source)
        dev = subset(train, held_out)
        if done(fold_args):
            print(f"fold {k}: --resume: {fold_args.output_model_path} is complete", flush=True)
        else:
            tuner.run(subset(train, np.flatnonzero(folds != k)), dev, None, loss_of,
                      evaluator(args.batch_size, tuner.runtime, labels_num))
        tuner.runtime.load(tuner.model, fold_args.output_model_path)
        with tuner.runtime.evaluating(tuner.model) as model:
            logits = torch.stack(predict(model, dev, args.batch_size, tuner.runtime, logits_of))
        probabilities[held_out] = torch.softmax(logits, -1).numpy()
        pred = logits.argmax(-1).numpy()
        accuracy, report = classification_report(pred, labels[held_out], labels_num)
        scores.append((accuracy, macro_f1(pred, labels[held_out], labels_num)))
        print(f"fold {k}: accuracy {scores[-1][0]:.4f} macro-F1 {scores[-1][1]:.4f}", flush=True)
    return probabilities, scores


def done(fold_args):
    """--resume: a fold whose model was written and whose run finished (its resume state removed)."""
    return fold_args.resume and os.path.exists(fold_args.output_model_path) and \
        not os.path.exists(fold_args.output_model_path + ".resume")


def save_features(path, probabilities):
    """By the master alone under torchrun (every process has the same probabilities)."""
    if not distributed.is_master_process():
        return
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "wb") as f:
        np.save(f, probabilities)
    print(f"saved {probabilities.shape[0]} x {probabilities.shape[1]} probabilities to {path}", file=sys.stderr)
