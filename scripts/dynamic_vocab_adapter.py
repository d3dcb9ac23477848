#!/usr/bin/env python3
"""Fit a model to another vocabulary: rows of the word embedding (and of a word-output layer) are kept for
tokens both vocabularies share and start at N(0, 0.02) for new ones, so a large general vocabulary can be cut
down to a task's, or extended."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402

VOCAB_ROWS = ("embedding.word_embedding.weight", "target.mlm_linear_2.weight", "target.mlm_linear_2.bias",
              "target.output_layer.weight", "target.output_layer.bias")


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--old_model_path", required=True)
    parser.add_argument("--old_vocab_path", required=True)
    parser.add_argument("--new_vocab_path", required=True)
    parser.add_argument("--new_model_path", required=True)
    parser.add_argument("--seed", type=int, default=7)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch
    from uer.model_loader import read_state_dict
    from uer.model_saver import atomic_torch_save
    from uer.core.errors import UserInputError
    from uer.text.vocab import Vocab
    old, new = Vocab.load(args.old_vocab_path), Vocab.load(args.new_vocab_path)
    state = read_state_dict(args.old_model_path)
    shared = [(i, old.w2i[w]) for i, w in enumerate(new.i2w) if w in old.w2i]
    new_idx, old_idx = (torch.tensor(x, dtype=torch.long) for x in zip(*shared))
    generator = torch.Generator().manual_seed(args.seed)
    from uer.model_layout import successor_names
    for key in dict.fromkeys(k for row in VOCAB_ROWS for k in (row,) + successor_names(row)):  # either layout's
        if key not in state:
            continue
        table = state[key]
        if table.shape[0] != len(old):
            raise UserInputError(f"{args.old_model_path}: {key} has {table.shape[0]} rows but "
                                 f"{args.old_vocab_path} has {len(old)} tokens")
        fresh = torch.zeros((len(new),) + tuple(table.shape[1:]), dtype=table.dtype)
        if key.endswith("weight"):
            fresh.normal_(0.0, 0.02, generator=generator)
        fresh[new_idx] = table[old_idx]
        state[key] = fresh
    atomic_torch_save(state, args.new_model_path)
    print(f"wrote {args.new_model_path}: {len(shared)} shared tokens kept, {len(new) - len(shared)} new")


if __name__ == "__main__":
    run_main(main)
