#!/usr/bin/env python3
"""End-to-end checks of the encoder-decoder pipeline, run as a user runs the scripts; prints a table.

reverse: a tiny T5-style model learns to reverse strings of 3-8 digits from 10,000 examples (run_text2text.py),
then generates the reversals of 300 held-out strings (inference/run_text2text_infer.py): exact match on them.
news (with --data_dir): news-commentary English-Chinese pairs (corpora/news-commentary-v13-en-zh_sampled.txt),
cut into train and dev; preprocess.py --target mt on train, pretrain.py of a tiny T5-style model, run_text2text.py
from it (dev BLEU), run_text2text_infer.py on dev: the losses and the BLEU of what it writes.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.opts import parse_benchmark  # noqa: E402
from uer.finetune.metrics import bleu  # noqa: E402

TINY = {"emb_size": 64, "hidden_size": 64, "feedforward_size": 256, "heads_num": 4, "layers_num": 2,
        "decoder_layers_num": 2, "dropout": 0.0, "hidden_act": "relu", "embedding": ["word"],
        "tgt_embedding": ["word"], "share_embedding": True, "remove_embedding_layernorm": True,
        "encoder": "transformer", "mask": "fully_visible", "decoder": "transformer", "layernorm_positioning": "pre",
        "layernorm": "t5", "remove_transformer_bias": True, "remove_attention_scale": True,
        "relative_position_embedding": True, "target": ["lm"], "tie_weights": True, "lm_hidden_scale": 0.125,
        "initializer": "t5"}


def run(script, *argv):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, argv)], capture_output=True,
                          text=True)
    if proc.returncode:
        sys.exit(f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def figures(metrics_path, split):
    with open(metrics_path) as f:
        return [r for r in map(json.loads, f) if r.get("split") == split]


def write_tsv(path, pairs, with_label=True):
    with open(path, "w") as f:
        f.write("text_a\tlabel\n" if with_label else "text_a\n")
        f.writelines(f"{a}\t{b}\n" if with_label else f"{a}\n" for a, b in pairs)


def reverse(work, args):
    rng = np.random.default_rng(args.seed)

    def pairs(n):
        out = []
        for _ in range(n):
            digits = [str(d) for d in rng.integers(0, 10, rng.integers(3, 9))]
            out.append((" ".join(digits), " ".join(reversed(digits))))
        return out
    train, dev, test = pairs(10000), pairs(300), pairs(300)
    for name, rows in (("train", train), ("dev", dev)):
        write_tsv(os.path.join(work, f"{name}.tsv"), rows)
    write_tsv(os.path.join(work, "test.tsv"), test, with_label=False)
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        json.dump(TINY, f)
    vocab, model, metrics = os.path.join(ROOT, "models", "reviews_vocab.txt"), os.path.join(work, "m.bin"), \
        os.path.join(work, "m.jsonl")
    seconds = run("run_text2text.py", "--train_path", os.path.join(work, "train.tsv"), "--dev_path",
                  os.path.join(work, "dev.tsv"), "--vocab_path", vocab, "--config_path", config,
                  "--output_model_path", model, "--epochs_num", args.epochs, "--batch_size", 64, "--learning_rate",
                  1e-3, "--bias_correction", "--seq_length", 16, "--metrics_path", metrics, "--seed", args.seed)
    prediction = os.path.join(work, "pred.txt")
    run("inference/run_text2text_infer.py", "--load_model_path", model, "--vocab_path", vocab, "--config_path",
        config, "--test_path", os.path.join(work, "test.tsv"), "--prediction_path", prediction, "--seq_length", 16)
    with open(prediction) as f:
        generated = f.read().splitlines()
    exact = np.mean([g.split() == t.split() for g, (_, t) in zip(generated, test)])
    dev_best = max(r["exact_match"] for r in figures(metrics, "dev"))
    return [("reverse 3-8 digits", f"{len(train)} / {len(test)}", args.epochs, f"{seconds:.0f}",
             f"dev exact match {dev_best:.3f}", f"held-out exact match **{exact:.3f}**")]


def news(work, args):
    corpus = os.path.join(args.data_dir, "corpora", "news-commentary-v13-en-zh_sampled.txt")
    vocab = os.path.join(args.data_dir, "models", "google_zh_vocab.txt")
    with open(corpus, encoding="utf-8") as f:
        pairs = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    train, dev = pairs[:-100], pairs[-100:]
    with open(os.path.join(work, "train.txt"), "w") as f:
        f.writelines(f"{a}\t{b}\n" for a, b in train)
    write_tsv(os.path.join(work, "train.tsv"), train)
    write_tsv(os.path.join(work, "dev.tsv"), dev)
    write_tsv(os.path.join(work, "dev_src.tsv"), dev, with_label=False)
    config = os.path.join(work, "config.json")
    with open(config, "w") as f:
        json.dump(dict(TINY, data_processor="mt", dropout=0.1), f)
    dataset, pre, pre_metrics = (os.path.join(work, n) for n in ("mt.pt", "pre.bin", "pre.jsonl"))
    t0 = run("preprocess.py", "--corpus_path", os.path.join(work, "train.txt"), "--vocab_path", vocab, "--target",
             "mt", "--seq_length", 64, "--dataset_path", dataset)
    t1 = run("pretrain.py", "--dataset_path", dataset, "--vocab_path", vocab, "--config_path", config,
             "--output_model_path", pre, "--total_steps", args.pretrain_steps, "--save_checkpoint_steps",
             args.pretrain_steps, "--report_steps", 50, "--batch_size", 32, "--learning_rate", 1e-3,
             "--bias_correction", "--metrics_path", pre_metrics)
    losses = [r["loss"] for r in figures(pre_metrics, "train")]
    model, metrics = os.path.join(work, "ft.bin"), os.path.join(work, "ft.jsonl")
    t2 = run("run_text2text.py", "--train_path", os.path.join(work, "train.tsv"), "--dev_path",
             os.path.join(work, "dev.tsv"), "--vocab_path", vocab, "--config_path", config, "--pretrained_model_path",
             f"{pre}-{args.pretrain_steps}", "--output_model_path", model, "--epochs_num", args.epochs,
             "--batch_size", 32, "--learning_rate", 5e-4, "--bias_correction", "--seq_length", 64,
             "--metric", "bleu", "--metrics_path", metrics)
    ft_losses = [r["loss"] for r in figures(metrics, "train")]
    prediction = os.path.join(work, "pred.txt")
    run("inference/run_text2text_infer.py", "--load_model_path", model, "--vocab_path", vocab, "--config_path",
        config, "--test_path", os.path.join(work, "dev_src.tsv"), "--prediction_path", prediction, "--seq_length", 64)
    with open(prediction, encoding="utf-8") as f:
        generated = f.read().splitlines()
    score = bleu([list(g.replace(" ", "")) for g in generated], [list(b.replace(" ", "")) for _, b in dev])
    return [("news-commentary en-zh", f"{len(train)} / {len(dev)}", args.epochs, f"{t0 + t1 + t2:.0f}",
             f"pre-training loss {losses[0]:.2f} -> {losses[-1]:.2f} ({args.pretrain_steps} steps); "
             f"fine-tuning {ft_losses[0]:.2f} -> {ft_losses[-1]:.2f}",
             f"dev BLEU (characters) {score:.2f}")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", default="reverse,news", help="Comma-separated: reverse, news.")
    parser.add_argument("--data_dir", default=None, help="The shared data folder (for news).")
    parser.add_argument("--epochs", type=int, default=8, help="Fine-tuning epochs.")
    parser.add_argument("--pretrain_steps", type=int, default=400, help="news: pre-training steps.")
    parser.add_argument("--seed", type=int, default=7)
    args = parse_benchmark(parser, epochs=1, pretrain_steps=2)
    rows = []
    for check in args.checks.split(","):
        if check == "news" and not args.data_dir:
            print("news: skipped (needs --data_dir)", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory() as work:
            rows += {"reverse": reverse, "news": news}[check](work, args)
    print("| check | train / held out | epochs | wall s | training | result |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(map(str, row)) + " |")


if __name__ == "__main__":
    main()
