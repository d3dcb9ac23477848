#!/usr/bin/env python3
"""Nearest neighbours of words by the cosine similarity of their rows in the model's embedding layer
(context-independent). Candidates are the words of --cand_vocab_path that the model's vocabulary has."""
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
    parser.add_argument("--cand_vocab_path", required=True, help="Candidate neighbours, one per line.")
    parser.add_argument("--target_words_path", required=True, help="Words to look up, one per line.")
    parser.add_argument("--topn", type=int, default=15)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch
    import torch.nn.functional as F
    from uer.model_loader import words_only
    from uer.core.readers import read_lines
    from uer.text.tokenizers import load_vocab
    vocab, _ = load_vocab(args)
    table = F.normalize(words_only(args.pretrained_model_path)["embedding.word_embedding.weight"].float(), dim=-1)
    candidates = [w for w in dict.fromkeys(read_lines(args.cand_vocab_path, "candidates")) if w in vocab]
    cand_ids = torch.tensor([vocab.get(w) for w in candidates])
    for word in read_lines(args.target_words_path, "target words"):
        if word not in vocab:
            print(f"{word}: not in the vocabulary")
            continue
        similarity = table[cand_ids] @ table[vocab.get(word)]
        best = similarity.topk(min(args.topn + 1, len(candidates))).indices.tolist()
        neighbours = [f"{candidates[i]} {similarity[i]:.4f}" for i in best if candidates[i] != word][:args.topn]
        print(f"{word}: " + ", ".join(neighbours))


if __name__ == "__main__":
    run_main(main)
