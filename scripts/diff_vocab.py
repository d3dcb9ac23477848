#!/usr/bin/env python3
"""Compare two vocabularies: how many tokens they share and which are only in one of them."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--vocab_1_path", required=True)
    parser.add_argument("--vocab_2_path", required=True)
    parser.add_argument("--show", type=int, default=20, help="Tokens listed from each side.")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.core.readers import read_lines
    first, second = (read_lines(p, "vocabulary") for p in (args.vocab_1_path, args.vocab_2_path))
    only_1 = [t for t in first if t not in set(second)]
    only_2 = [t for t in second if t not in set(first)]
    print(f"{args.vocab_1_path}: {len(first)} tokens; {args.vocab_2_path}: {len(second)} tokens; "
          f"shared {len(set(first) & set(second))}")
    for path, only in ((args.vocab_1_path, only_1), (args.vocab_2_path, only_2)):
        print(f"only in {path}: {len(only)}" + (": " + " ".join(only[:args.show]) if only else ""))


if __name__ == "__main__":
    run_main(main)
