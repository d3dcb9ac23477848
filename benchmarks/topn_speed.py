#!/usr/bin/env python3
"""scripts/topn_words_dep.py against UER-py's algorithm for the same command, side by side in one run.

Both put every candidate in the word's place and run the model over the sentence once per candidate, in batches
of --batch_size. UER-py padded every row to --seq_length; the script keeps each row as long as its sentence.
The script's rate is read from its progress line (the forward passes only), UER-py's is timed here on the same
weights with the same threads.

    python3 benchmarks/topn_speed.py --data_dir ../shared/data [--config_path models/bert_base_config.json]
                                     [--candidates 2048] [--sentences 2]

--data_dir is the folder holding models/google_zh_vocab.txt and datasets/douban_book_review/dev.tsv.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.finetune.data import read_tsv  # noqa: E402
from uer.model_builder import build_body, init_weights  # noqa: E402
from uer.model_saver import save_model  # noqa: E402
from uer.models.model import Body  # noqa: E402
from uer.opts import parse, parse_benchmark, probing_opts  # noqa: E402
from uer.core.constants import CLS_TOKEN  # noqa: E402
from uer.text.tokenizers import load_vocab_and_tokenizer  # noqa: E402

SI = {"": 1, "k": 1e3, "M": 1e6}


def model_args(vocab_path, config_path, batch_size, seq_length):
    parser = argparse.ArgumentParser()
    probing_opts(parser, files=False)
    return parse(parser, ["--pretrained_model_path", "-", "--vocab_path", vocab_path, "--config_path", config_path,
                          "--batch_size", str(batch_size), "--seq_length", str(seq_length)])


def sentences(data_dir, count, tokenizer):
    """(sentence, word) pairs: the first dev reviews of 10 to 30 tokens, their third character as the word."""
    texts = read_tsv(os.path.join(data_dir, "datasets", "douban_book_review", "dev.tsv"), ["text_a"])["text_a"]
    picked = [t for t in texts if 10 <= len(tokenizer.encode(t)) <= 30 and len(tokenizer.encode(t[2])) == 1]
    return [(t, t[2]) for t in picked[:count]]


def uer_py_rate(model, vocab, tokenizer, pairs, candidates, args):
    """Rows per second of UER-py's loop: [CLS] + sentence padded to seq_length, a batch of candidates at a time."""
    cand_ids = torch.tensor([vocab.get(w) for w in candidates])
    rows, elapsed = 0, 0.0
    with torch.inference_mode():
        for sentence, word in pairs:
            ids = ([vocab.get(CLS_TOKEN)] + tokenizer.encode(sentence))[:args.seq_length]
            seg = [1] * len(ids) + [0] * (args.seq_length - len(ids))
            ids = ids + [0] * (args.seq_length - len(ids))
            position = ids.index(tokenizer.encode(word)[0])
            start = time.perf_counter()
            model.encode(torch.tensor([ids]), torch.tensor([seg]))
            for i in range(0, len(cand_ids), args.batch_size):
                batch = cand_ids[i:i + args.batch_size]
                src = torch.tensor([ids]).repeat(len(batch), 1)
                src[:, position] = batch
                model.encode(src, torch.tensor([seg]).repeat(len(batch), 1))[:, position]
            elapsed += time.perf_counter() - start
            rows += len(cand_ids) + 1
    return rows / elapsed, elapsed


def script_rate(work, args, pairs, candidates):
    sent_path = os.path.join(work, "sentences.txt")
    with open(sent_path, "w", encoding="utf-8") as f:
        f.writelines(f"{s}\t{w}\n" for s, w in pairs)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "topn_words_dep.py"),
                           "--pretrained_model_path", os.path.join(work, "model.bin"), "--vocab_path", args.vocab_path,
                           "--config_path", args.config_path, "--cand_vocab_path", os.path.join(work, "cand.txt"),
                           "--sent_path", sent_path, "--batch_size", str(args.batch_size), "--seq_length",
                           str(args.seq_length)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    found = re.findall(r"100% .*?([0-9.]+)([kM]?)seq/s\]", proc.stderr)
    if not found:  # done within the progress bar's quiet first second (--smoke): the wall time, loading included
        return len(pairs) * (candidates + 1) / wall, wall
    value, prefix = found[-1]
    return float(value) * SI[prefix], wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--config_path", default=os.path.join(ROOT, "models", "bert_base_config.json"))
    parser.add_argument("--candidates", type=int, default=2048, help="First N tokens of the vocabulary.")
    parser.add_argument("--sentences", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--seq_length", type=int, default=32)
    opts = parse_benchmark(parser, config_path=os.path.join(ROOT, "models", "bert_tiny_config.json"), candidates=16,
                           sentences=1, batch_size=8, seq_length=16)
    vocab_path = os.path.join(opts.data_dir, "models", "google_zh_vocab.txt")
    args = model_args(vocab_path, opts.config_path, opts.batch_size, opts.seq_length)
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    pairs = sentences(opts.data_dir, opts.sentences, tokenizer)
    candidates = vocab.i2w[:opts.candidates]
    torch.manual_seed(0)
    model = Body(*build_body(args, len(vocab), vocab))
    init_weights(model)
    model.eval()
    with tempfile.TemporaryDirectory() as work:
        save_model(model, os.path.join(work, "model.bin"))
        with open(os.path.join(work, "cand.txt"), "w", encoding="utf-8") as f:
            f.writelines(w + "\n" for w in candidates)
        ours, wall = script_rate(work, args, pairs, len(candidates))
    theirs, seconds = uer_py_rate(model, vocab, tokenizer, pairs, candidates, args)
    tokens = [len(tokenizer.encode(s)) + 2 for s, _ in pairs]
    print(f"{os.path.basename(opts.config_path)}, {len(candidates)} candidates, {len(pairs)} sentences of "
          f"{tokens} tokens, --seq_length {opts.seq_length}, --batch_size {opts.batch_size}, "
          f"{torch.get_num_threads()} threads")
    print("| algorithm | rows/s | time per sentence for 21128 candidates |")
    print("|---|---|---|")
    for name, rate in (("UER-py (rows padded to --seq_length)", theirs), ("topn_words_dep.py", ours)):
        print(f"| {name} | {rate:.0f} | {21129 / rate:.0f} s |")
    print(f"ratio {ours / theirs:.2f}x (script wall time with model loading {wall:.1f} s; UER-py loop {seconds:.1f} s)")


if __name__ == "__main__":
    main()
