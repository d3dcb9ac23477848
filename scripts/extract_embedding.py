#!/usr/bin/env python3
"""Write a model's word embeddings as text: a "count dimension" header, then "word v1 v2 ..." per token (the
word2vec text format)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import vocab_opts  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--pretrained_model_path", required=True)
    vocab_opts(parser)
    parser.add_argument("--output_word_embedding_path", required=True)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.model_loader import words_only
    from uer.core.errors import UserInputError
    from uer.core.fileutil import atomic_open
    from uer.monitor.progress import progress
    from uer.text.tokenizers import load_vocab
    vocab, _ = load_vocab(args)
    table = words_only(args.pretrained_model_path).get("embedding.word_embedding.weight")
    if table is None or table.shape[0] != len(vocab):
        raise UserInputError(f"{args.pretrained_model_path}: expected embedding.word_embedding.weight with "
                             f"{len(vocab)} rows (the vocabulary's size)")
    with atomic_open(args.output_word_embedding_path, "w") as f:
        f.write(f"{table.shape[0]} {table.shape[1]}\n")
        rows = progress(zip(vocab.i2w, table.float().tolist()), total=len(vocab), desc="writing", unit="word",
                        unit_scale=True)
        for word, row in rows:
            f.write(word + " " + " ".join(f"{v:.6g}" for v in row) + "\n")
    print(f"wrote {table.shape[0]} embeddings of size {table.shape[1]} to {args.output_word_embedding_path}")


if __name__ == "__main__":
    run_main(main)
