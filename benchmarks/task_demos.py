#!/usr/bin/env python3
"""Do the later task scripts learn? Each on a synthetic set whose answer is known (benchmarks/data/synthetic_tasks.py),
a one-layer LSTM of 64 from scratch: the training loss at the first and last report, the dev metric after the
first and the best epoch, and what chance scores.

    python3 benchmarks/task_demos.py [--train 2000] [--dev 500] [--epochs 5] [--work_dir DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.opts import parse_benchmark  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "benchmarks", "data"))
import synthetic_tasks as synthetic  # noqa: E402
from uer.monitor.metrics import read_metrics  # noqa: E402

# script, train rows, dev rows, their header, the metric, what chance scores, more flags
TASKS = [
    ("run_regression.py", synthetic.scored, synthetic.scored, "label\ttext_a", "pearson", "0", []),
    ("run_classifier_multi_label.py", synthetic.multi_labelled, synthetic.multi_labelled, "label\ttext_a",
     "micro_f1", "0.57 (every label)", ["--pooling", "max"]),
    ("run_classifier_siamese.py", synthetic.topic_pairs, synthetic.topic_pairs, "label\ttext_a\ttext_b", "acc",
     "0.50", []),
    ("run_simcse.py", synthetic.topic_positives, lambda n, seed: synthetic.topic_pairs(n, seed, as_score=True),
     ("text_a\ttext_b", "label\ttext_a\ttext_b"), "spearman", "0 (ceiling 0.87)", ["--temperature", "0.1"]),
]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=int, default=2000, help="Training examples.")
    p.add_argument("--dev", type=int, default=500, help="Dev examples.")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--work_dir", default=None)
    args = parse_benchmark(p, train=64, dev=32, epochs=1)
    work = args.work_dir or tempfile.mkdtemp(prefix="uer_task_demos_")
    os.makedirs(work, exist_ok=True)
    config = os.path.join(work, "lstm.json")
    with open(config, "w") as f:
        f.write('{"emb_size": 64, "hidden_size": 64, "layers_num": 1, "dropout": 0.0}')
    print("| script | train / dev examples | chance | train loss, first report -> last | dev after epoch 1 | "
          "best dev (epoch) | minutes |\n|---|---|---|---|---|---|---|")
    for script, train_rows, dev_rows, header, metric, chance, extra in TASKS:
        train_header, dev_header = header if isinstance(header, tuple) else (header, header)
        name = script[:-3]
        train = synthetic.write_tsv(os.path.join(work, f"{name}_train.tsv"), train_header, train_rows(args.train, 0))
        dev = synthetic.write_tsv(os.path.join(work, f"{name}_dev.tsv"), dev_header, dev_rows(args.dev, 1))
        out = os.path.join(work, f"{name}.bin")
        start = time.perf_counter()
        with open(os.path.join(work, f"{name}.log"), "w") as log:
            proc = subprocess.run([sys.executable, os.path.join(ROOT, script), "--vocab_path",
                                   os.path.join(ROOT, "models", "reviews_vocab.txt"), "--config_path", config,
                                   "--embedding", "word", "--encoder", "lstm", "--pooling", "mean",
                                   "--learning_rate", "3e-3", "--batch_size", "32", "--epochs_num", str(args.epochs),
                                   "--report_steps", "10", "--train_path", train, "--dev_path", dev,
                                   "--output_model_path", out, *extra], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        if proc.returncode:
            sys.exit(f"{script} failed; see {log.name}")
        records = read_metrics(out + ".metrics.jsonl")
        losses = [r["loss"] for r in records if r["split"] == "train"]
        dev_scores = [r[metric] for r in records if r["split"] == "dev"]
        best = max(range(len(dev_scores)), key=dev_scores.__getitem__)
        print(f"| `{script}` ({metric}) | {args.train} / {args.dev} | {chance} | {losses[0]:.4f} -> {losses[-1]:.4f} | "
              f"{dev_scores[0]:.4f} | {dev_scores[best]:.4f} ({best + 1}) | {(time.perf_counter() - start) / 60:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
