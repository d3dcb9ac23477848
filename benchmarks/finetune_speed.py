#!/usr/bin/env python3
"""Fine-tuning and inference throughput on douban_book_review, padded to each batch's longest example (ours)
versus padded to --seq_length (what UER-py did), in one run, and the epoch's training time at those rates.
The timed batches are quantiles of one epoch's, so that they pad like the whole epoch does.
(Accuracy runs: benchmarks/finetune_accuracy.py.)

    python3 benchmarks/finetune_speed.py --data_dir ../shared/data [--models lstm,tiny] [--steps 20]

--data_dir is the folder holding datasets/douban_book_review/ and models/google_zh_vocab.txt.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.tasks.classification import read_classification, classifier_loss, logits_of  # noqa: E402
from uer.finetune.data import training_batches  # noqa: E402
from uer.finetune.prediction import predict  # noqa: E402
from uer.models.classifier import Classifier  # noqa: E402
from uer.opts import finetune_opts, parse, parse_benchmark  # noqa: E402
from uer.optim.optimizers import build_optimizer  # noqa: E402
from uer.runtime.memory import keep_freed_memory  # noqa: E402
from uer.runtime.precision import Precision, cpu_has_fast_bf16  # noqa: E402
from uer.text.tokenizers import load_vocab_and_tokenizer  # noqa: E402

MODELS = {  # name: (label, flags)
    "lstm": ("LSTM (rnn_config)", ["--embedding", "word", "--encoder", "lstm", "--pooling", "mean",
                                   "--config_path", "models/rnn_config.json", "--learning_rate", "1e-3"]),
    "tiny": ("BERT-tiny", ["--encoder", "bert", "--config_path", "models/bert_tiny_config.json"]),
}


def model_args(data, flags, fp16):
    parser = argparse.ArgumentParser()
    finetune_opts(parser, output_model_path="unused")
    parser.add_argument("--pooling", default="first")
    argv = ["--vocab_path", os.path.join(data, "models", "google_zh_vocab.txt"), "--train_path", "-",
            "--dev_path", "-", "--batch_size", "64", "--seq_length", "128", *flags] + (["--fp16"] if fp16 else [])
    return parse(parser, argv)


def epoch_sample(lengths, batch_size, steps):
    """A warm-up batch, then `steps` batches of one epoch whose longest members spread over the epoch's
    distribution (evenly spaced quantiles), so their mean padded length is the epoch's, not that of whichever
    batches happen to come first."""
    batches = training_batches(lengths, batch_size, np.random.default_rng(0))
    batches = [b for b in batches if len(b) == batch_size]
    by_longest = sorted(batches, key=lambda b: lengths[b].max())
    picks = np.linspace(0, len(by_longest) - 1, steps).round().astype(int)
    sample = [by_longest[len(by_longest) // 2]] + [by_longest[i] for i in picks]
    epoch_mean = np.mean([lengths[b].max() for b in batches])
    return sample, epoch_mean


def throughput(args, train, dev, batches, pad_to):
    """(training examples/s, inference examples/s) with batches padded to max(longest, pad_to); the first of
    `batches` warms up."""
    torch.manual_seed(0)
    model = Classifier(args, args.vocab_size)
    optimizer, scheduler = build_optimizer(model, args, len(batches))
    precision = Precision(args.fp16, "O1", torch.device("cpu"))
    loss_of = classifier_loss()
    train.pad_to = dev.pad_to = pad_to
    model.train()
    for k, indices in enumerate(batches):
        if k == 1:
            start = time.perf_counter()
        src, seg = train.batch(indices, "cpu")
        with precision.autocast():
            loss = loss_of(model, train, indices, src, seg)
        precision.backward(loss)
        precision.step(optimizer)
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
    train_rate = sum(len(b) for b in batches[1:]) / (time.perf_counter() - start)
    start = time.perf_counter()
    with precision.autocast():
        predict(model, dev, args.batch_size, "cpu", logits_of)
    return train_rate, len(dev) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--models", default="lstm,tiny")
    parser.add_argument("--steps", type=int, default=20, help="Timed training steps per row.")
    parser.add_argument("--dev_examples", type=int, default=2000, help="Examples for the inference rate.")
    args = parse_benchmark(parser, steps=2, dev_examples=16)
    keep_freed_memory()  # as the fine-tuning scripts do on CPU
    douban = os.path.join(args.data_dir, "datasets", "douban_book_review")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("\n| model | precision | train ex/s, longest | train ex/s, seq_length | ratio | epoch min, longest | "
          "epoch min, seq_length | infer ex/s, longest | infer ex/s, seq_length | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    # every model reads the same files with the same vocabulary: tokenize them once
    margs = model_args(args.data_dir, [], False)
    vocab, tokenizer = load_vocab_and_tokenizer(margs)
    train = read_classification(os.path.join(douban, "train.tsv"), tokenizer, 128)
    dev = read_classification(os.path.join(douban, "dev.tsv"), tokenizer, 128)
    keep = np.arange(min(args.dev_examples, len(dev)))
    dev.length, dev.start, dev.a_len = dev.length[keep], dev.start[keep], dev.a_len[keep]
    batches, epoch_mean = epoch_sample(train.length, margs.batch_size, args.steps)
    timed_mean = np.mean([train.length[b].max() for b in batches[1:]])
    for name in args.models.split(","):
        label, flags = MODELS[name]
        for fp16 in (False,) if args.smoke else (False, True):
            if fp16 and not cpu_has_fast_bf16():
                print(f"| {label} | --fp16 | n/a (no native bf16 on this CPU) | | | | | | | |")
                continue
            margs = model_args(args.data_dir, flags, fp16)
            margs.vocab_size, margs.labels_num = len(vocab), 2
            longest = throughput(margs, train, dev, batches, 0)
            fixed = throughput(margs, train, dev, batches, 128)
            print(f"| {label} | {'--fp16' if fp16 else 'fp32'} | {longest[0]:.0f} | {fixed[0]:.0f} | "
                  f"{longest[0] / fixed[0]:.2f}x | {len(train) / longest[0] / 60:.1f} | "
                  f"{len(train) / fixed[0] / 60:.1f} | {longest[1]:.0f} | {fixed[1]:.0f} | "
                  f"{longest[1] / fixed[1]:.2f}x |", flush=True)
    print(f"\nThe timed batches pad to {timed_mean:.1f} tokens on average, the whole epoch's batches to "
          f"{epoch_mean:.1f}, versus 128.")


if __name__ == "__main__":
    main()
