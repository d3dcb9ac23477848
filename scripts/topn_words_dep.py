#!/usr/bin/env python3
"""Nearest neighbours of a word in context: each line of --sent_path is "sentence<TAB>word"; every candidate
of --cand_vocab_path (a single token) replaces the word in the sentence, and candidates are ranked by the
cosine similarity of the last hidden state at that position to the original's."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import probing_opts, parse  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--cand_vocab_path", required=True, help="Candidate words, one per line.")
    parser.add_argument("--sent_path", required=True, help="Lines of sentence<TAB>word.")
    probing_opts(parser, batch_size=256, seq_length=32, files=False)
    parser.add_argument("--topn", type=int, default=15)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    import torch
    import torch.nn.functional as F
    from uer.model_builder import build_for_probing
    from uer.finetune.loop import place
    from uer.utils.constants import CLS_TOKEN, SEP_TOKEN
    from uer.utils.errors import UserInputError
    from uer.utils.readers import read_lines
    from uer.utils.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path), parallel=False)
    candidates = [w for w in dict.fromkeys(read_lines(args.cand_vocab_path, "candidates")) if w in vocab]
    cand_ids = torch.tensor([vocab.get(w) for w in candidates], device=device)
    for no, line in enumerate(read_lines(args.sent_path, "sentences"), start=1):
        if "\t" not in line:
            raise UserInputError(f"{args.sent_path}:{no}: expected sentence<TAB>word")
        sentence, word = line.rsplit("\t", 1)
        ids = [vocab.get(CLS_TOKEN)] + tokenizer.encode(sentence)[:args.seq_length - 2] + [vocab.get(SEP_TOKEN)]
        word_ids = tokenizer.encode(word)
        if len(word_ids) != 1 or word_ids[0] not in ids:
            print(f"{word}: not a single token of its sentence (line {no})")
            continue
        position = ids.index(word_ids[0])
        src = torch.tensor(ids, device=device).repeat(len(candidates) + 1, 1)
        src[1:, position] = cand_ids
        seg = torch.ones_like(src)
        with torch.no_grad():
            states = torch.cat([model.encode(src[i:i + args.batch_size], seg[i:i + args.batch_size])[:, position]
                                for i in range(0, len(src), args.batch_size)])
        similarity = F.cosine_similarity(states[1:].float(), states[:1].float())
        best = similarity.topk(min(args.topn + 1, len(candidates))).indices.tolist()
        neighbours = [f"{candidates[i]} {similarity[i]:.4f}" for i in best if candidates[i] != word][:args.topn]
        print(f"{word} ({sentence}): " + ", ".join(neighbours))


if __name__ == "__main__":
    run_main(main)
