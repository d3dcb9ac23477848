#!/usr/bin/env python3
"""The 2020 competition kit on real data: 5-fold cross-validation of two models on douban_book_review's training
split (run_classifier_cv.py), their test features (inference/run_classifier_infer_cv.py), then LightGBM stacking
of both (scripts/run_lgb.py) against each model alone (the mean of its fold models' probabilities).

    python3 benchmarks/cv_stacking.py --data_dir ../shared/data [--epochs_num 2] [--folds_num 5]

Models (from scratch, word embedding, mean pooling, lr 1e-3, batch 64, seq 64): an LSTM and a GRU of one layer
of 256. Prints a table of every figure with the wall time of each stage."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.opts import parse_benchmark  # noqa: E402
MODELS = {"LSTM": ["--encoder", "lstm"], "GRU": ["--encoder", "gru"]}


def run(argv):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{argv[0]} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout, time.perf_counter() - start


def test_accuracy(features_path, test_path):
    with open(test_path, encoding="utf-8") as f:
        gold = np.array([int(line.split("\t")[0]) for line in f.read().splitlines()[1:] if line.strip()])
    return float((np.load(features_path).argmax(1) == gold).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--epochs_num", type=int, default=2)
    parser.add_argument("--folds_num", type=int, default=5)
    args = parse_benchmark(parser, epochs_num=1, folds_num=2)
    data = os.path.join(args.data_dir, "datasets", "douban_book_review")
    vocab = os.path.join(args.data_dir, "models", "google_zh_vocab.txt")
    with tempfile.TemporaryDirectory() as work:
        config = os.path.join(work, "rnn.json")
        with open(config, "w") as f:
            f.write('{"emb_size": 256, "hidden_size": 256, "layers_num": 1, "dropout": 0.2}')
        common = ["--vocab_path", vocab, "--config_path", config, "--embedding", "word", "--pooling", "mean",
                  "--seq_length", "64"]
        print("| model | stage | figure | wall s |\n|---|---|---|---|", flush=True)
        for i, (name, flags) in enumerate(MODELS.items()):
            out, wall = run(["run_classifier_cv.py", *common, *flags, "--train_path", f"{data}/train.tsv",
                             "--train_features_path", f"{work}/train/train_features_{i}.npy",
                             "--output_model_path", f"{work}/{name}.bin", "--folds_num", str(args.folds_num),
                             "--epochs_num", str(args.epochs_num), "--batch_size", "64", "--learning_rate", "1e-3"])
            folds = re.findall(r"fold (\d+): accuracy ([0-9.]+) macro-F1 ([0-9.]+)", out)
            mean = re.search(r"mean accuracy ([0-9.]+), mean macro-F1 ([0-9.]+)", out)
            print(f"| {name} | {args.folds_num}-fold CV on train ({args.epochs_num} epochs a fold) | out-of-fold "
                  f"accuracy per fold {', '.join(a for _, a, _ in folds)}; mean {mean[1]}, macro-F1 {mean[2]} | "
                  f"{wall:.0f} |", flush=True)
            _, wall = run(["inference/run_classifier_infer_cv.py", *common, *flags, "--load_model_path",
                           f"{work}/{name}.bin", "--test_path", f"{data}/test_nolabel.tsv", "--test_features_path",
                           f"{work}/test/test_features_{i}.npy", "--labels_num", "2", "--folds_num",
                           str(args.folds_num)])
            accuracy = test_accuracy(f"{work}/test/test_features_{i}.npy", f"{data}/test.tsv")
            print(f"| {name} | test, mean of the fold models | accuracy {accuracy:.4f} | {wall:.0f} |", flush=True)
        out, wall = run(["scripts/run_lgb.py", "--train_path", f"{data}/train.tsv", "--test_path",
                         f"{data}/test.tsv", "--train_features_path", f"{work}/train", "--test_features_path",
                         f"{work}/test", "--models_num", str(len(MODELS)), "--labels_num", "2"])
        accuracy = re.search(r"accuracy ([0-9.]+)", out)[1]
        f1 = re.search(r"macro-F1 ([0-9.]+)", out)[1]
        print(f"| {' + '.join(MODELS)} | LightGBM stacking, test | accuracy {accuracy}, macro-F1 {f1} | {wall:.0f} |")


if __name__ == "__main__":
    main()
