#!/usr/bin/env python3
"""Nearest neighbours of a word in context: each line of --sent_path is "sentence<TAB>word"; every candidate
of --cand_vocab_path (a single token) replaces the word in the sentence, and candidates are ranked by the
cosine similarity of the last hidden state at that position to the original's."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import probing_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


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
    from uer.runtime.runtime import place
    from uer.monitor.progress import progress, write
    from uer.core.readers import read_lines
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path), parallel=False)
    candidates = [w for w in dict.fromkeys(read_lines(args.cand_vocab_path, "candidates")) if w in vocab]
    cand_ids = torch.tensor([vocab.get(w) for w in candidates], device=device)
    queries = read_queries(args, vocab, tokenizer)
    found = sum(q["position"] is not None for q in queries)
    with progress(total=found * (len(candidates) + 1), desc="sentences with each candidate", unit="seq",
                  unit_scale=True) as bar:
        for q in queries:
            if q["position"] is None:
                write(f"{q['word']}: not a single token of its sentence (line {q['line']})")
                continue
            states = contextual_states(model, q["ids"], q["position"], cand_ids, args.batch_size, bar)
            similarity = F.cosine_similarity(states[1:], states[:1])
            best = similarity.topk(min(args.topn + 1, len(candidates))).indices.tolist()
            neighbours = [f"{candidates[i]} {similarity[i]:.4f}" for i in best if candidates[i] != q["word"]]
            write(f"{q['word']} ({q['sentence']}): " + ", ".join(neighbours[:args.topn]))


def read_queries(args, vocab, tokenizer):
    """The lines of --sent_path: sentence, word, line, token ids [CLS] sentence [SEP] and the word's position
    (None when the word is not one token of the sentence)."""
    from uer.core.constants import CLS_TOKEN, SEP_TOKEN
    from uer.core.errors import UserInputError
    from uer.core.readers import read_lines
    queries = []
    for no, line in enumerate(read_lines(args.sent_path, "sentences"), start=1):
        if "\t" not in line:
            raise UserInputError(f"{args.sent_path}:{no}: expected sentence<TAB>word")
        sentence, word = line.rsplit("\t", 1)
        ids = [vocab.get(CLS_TOKEN)] + tokenizer.encode(sentence)[:args.seq_length - 2] + [vocab.get(SEP_TOKEN)]
        word_ids = tokenizer.encode(word)
        position = ids.index(word_ids[0]) if len(word_ids) == 1 and word_ids[0] in ids else None
        queries.append({"sentence": sentence, "word": word, "line": no, "ids": ids, "position": position})
    return queries


def contextual_states(model, ids, position, cand_ids, batch_size, bar):
    """Last hidden state at `position` of the sentence (row 0) and of the sentence with each candidate there."""
    import torch
    src = torch.tensor(ids, device=cand_ids.device).repeat(len(cand_ids) + 1, 1)
    src[1:, position] = cand_ids
    seg = torch.ones_like(src)
    states = []
    with torch.inference_mode():
        for i in range(0, len(src), batch_size):
            states.append(model.encode(src[i:i + batch_size], seg[i:i + batch_size])[:, position].float())
            bar.update(len(states[-1]))
    return torch.cat(states)


if __name__ == "__main__":
    run_main(main)
