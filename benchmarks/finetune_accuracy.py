#!/usr/bin/env python3
"""Accuracy and wall time of fine-tuning on the real datasets, through the scripts as a user runs them:

- douban_book_review: the LSTM recipe of the UER-py README, from scratch (rnn_config, lr 1e-3, batch 64,
  3 epochs, seq_length 128, evaluation every epoch); UER-py's README reports 80.2 test accuracy;
- msra_ner: train_small.tsv -> test.tsv, BERT-tiny from scratch;
- cmrc2018: train_small.json -> dev.json, BERT-tiny from scratch.

    python3 benchmarks/finetune_accuracy.py --data_dir ../shared/data [--tasks douban,msra,cmrc] [--out_dir DIR]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.opts import parse_benchmark  # noqa: E402


def tasks(data, out):
    d = os.path.join(data, "datasets")
    vocab = ["--vocab_path", os.path.join(data, "models", "google_zh_vocab.txt")]
    tiny = ["--config_path", "models/bert_tiny_config.json", "--encoder", "bert"]
    return {
        "douban": ("douban_book_review, LSTM from scratch", "run_classifier.py", vocab + [
            "--train_path", f"{d}/douban_book_review/train.tsv", "--dev_path", f"{d}/douban_book_review/dev.tsv",
            "--test_path", f"{d}/douban_book_review/test.tsv", "--embedding", "word", "--encoder", "lstm",
            "--pooling", "mean", "--config_path", "models/rnn_config.json", "--learning_rate", "1e-3",
            "--batch_size", "64", "--epochs_num", "3", "--seq_length", "128"], r"test:(?:.*\n)*?accuracy ([0-9.]+)"),
        "msra": ("msra_ner train_small -> test, BERT-tiny from scratch", "run_ner.py", vocab + tiny + [
            "--train_path", f"{d}/msra_ner/train_small.tsv", "--dev_path", f"{d}/msra_ner/dev.tsv",
            "--test_path", f"{d}/msra_ner/test.tsv", "--label2id_path", f"{d}/msra_ner/label2id.json",
            "--epochs_num", "5", "--batch_size", "16", "--learning_rate", "1e-4", "--seq_length", "128"],
            r"test: entity precision [0-9.]+ recall [0-9.]+ f1 ([0-9.]+)"),
        "cmrc": ("cmrc2018 train_small -> dev, BERT-tiny from scratch", "run_cmrc.py", vocab + tiny + [
            "--train_path", f"{d}/cmrc2018/train_small.json", "--dev_path", f"{d}/cmrc2018/dev.json",
            "--epochs_num", "2", "--batch_size", "8", "--learning_rate", "1e-4", "--seq_length", "256"],
            r"dev: (EM [0-9.]+ F1 [0-9.]+)"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--tasks", default="douban,msra,cmrc")
    parser.add_argument("--out_dir", default=None, help="Where models and logs go (default: a temporary folder).")
    args = parse_benchmark(parser)
    out = args.out_dir or tempfile.mkdtemp(prefix="uer_finetune_")
    table = tasks(args.data_dir, out)
    print("| task | result (best dev model) | wall time |\n|---|---|---|")
    failed = False
    for name in args.tasks.split(","):
        title, script, argv, pattern = table[name]
        start = time.perf_counter()
        smoke = ["--epochs_num", "1", "--seq_length", "64"] if args.smoke else []
        proc = subprocess.run([sys.executable, script, *argv, "--output_model_path", f"{out}/{name}.bin",
                               "--report_steps", "200", *smoke], cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        with open(f"{out}/{name}.log", "w", encoding="utf-8") as f:
            f.write(proc.stdout + proc.stderr)
        if proc.returncode:
            print(f"| {title} | failed, see {out}/{name}.log | |")
            failed = True
            continue
        found = re.findall(pattern, proc.stdout)
        print(f"| {title} | {found[-1] if found else '?'} | {seconds / 60:.1f} min |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
