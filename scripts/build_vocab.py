#!/usr/bin/env python3
"""Build a vocabulary from a corpus: the special tokens first, then tokens by descending count (ties in order of
first appearance), keeping those seen at least --min_count times, at most --max_size in all."""
import argparse
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402

JOB_LINES = 20000


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus_path", required=True)
    parser.add_argument("--output_path", "--vocab_path", dest="output_path", required=True, help="Vocabulary file.")
    parser.add_argument("--tokenizer", choices=["char", "space"], default="char",
                        help="char: every character; space: space-separated words.")
    parser.add_argument("--processes_num", "--workers_num", dest="processes_num", type=int, default=1)
    parser.add_argument("--min_count", type=int, default=1)
    parser.add_argument("--max_size", type=int, default=None, help="Largest vocabulary, special tokens included.")
    return parser


def count_lines(job):
    lines, tokenizer = job
    counts = Counter()
    for line in lines:
        counts.update(line.split() if tokenizer == "space" else [c for c in line if not c.isspace()])
    return counts


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.core.constants import SPECIAL_TOKENS
    from uer.core.fileutil import atomic_open
    from uer.core.readers import read_lines
    from uer.monitor.progress import progress
    from uer.data.preprocessing import pool_map
    lines = read_lines(args.corpus_path, "corpus")
    size = max(1, -(-len(lines) // max(1, args.processes_num)))
    size = min(size, JOB_LINES)  # small jobs, so that progress moves
    jobs = [(lines[i:i + size], args.tokenizer) for i in range(0, len(lines), size)]
    parts = []
    with progress(total=len(lines), desc="counting", unit="line", unit_scale=True) as bar:
        for part, (job_lines, _) in zip(pool_map(count_lines, jobs, args.processes_num), jobs):
            parts.append(part)
            bar.update(len(job_lines))
    counts = Counter()
    for part in parts:  # in corpus order, so first appearances (the tie order) are kept
        counts.update(part)
    tokens = [t for t, c in sorted(counts.items(), key=lambda kv: -kv[1])
              if c >= args.min_count and t not in SPECIAL_TOKENS]
    vocab = list(SPECIAL_TOKENS) + tokens
    vocab = vocab[:args.max_size] if args.max_size else vocab
    with atomic_open(args.output_path, "w") as f:
        f.writelines(t + "\n" for t in vocab)
    print(f"wrote {args.output_path}: {len(vocab)} tokens ({len(counts)} distinct in the corpus)")


if __name__ == "__main__":
    run_main(main)
