#!/usr/bin/env python3
"""Cloze test: in each line of --input_path one random word (not a special token) is masked and the model's MLM
head ranks the vocabulary for it. Output lines: the masked text, the hidden word, the --topn predictions."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import probing_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    probing_opts(parser)
    parser.add_argument("--target", choices=["mlm", "bert", "albert"], default="bert",
                        help="Pre-training target of the model (all have the MLM head used here).")
    parser.add_argument("--topn", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7, help="Which words get masked.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    import numpy as np
    import torch
    from uer.finetune.data import Examples, encode_pairs
    from uer.finetune.prediction import predict
    from uer.runtime.runtime import place
    from uer.model_builder import build_for_probing
    from uer.core.constants import MASK_TOKEN
    from uer.core.fileutil import atomic_open
    from uer.core.readers import read_lines
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    lines = read_lines(args.input_path, "input")
    sequences, a_lens = encode_pairs(tokenizer, lines, None, args.seq_length)
    rng = np.random.default_rng(args.seed)
    hidden_at = [int(rng.integers(1, len(s) - 1)) if len(s) > 2 else 0 for s in sequences]
    truth = [s[p] for s, p in zip(sequences, hidden_at)]
    for s, p in zip(sequences, hidden_at):
        s[p] = vocab.get(MASK_TOKEN) if p else s[p]
    examples = Examples(sequences, a_lens)
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path, target=args.target),
                          parallel=False)

    def top_words(model, examples, indices, src, seg):
        rows = torch.arange(len(indices), device=src.device)
        hidden = model.encode(src, seg)[rows, torch.as_tensor([hidden_at[i] for i in indices], device=src.device)]
        return model.target.word_logits(hidden).topk(args.topn, -1).indices.cpu()
    ranked = predict(model, examples, args.batch_size, device, top_words)
    with atomic_open(args.output_path, "w") as f:
        for seq, p, word, top in zip(sequences, hidden_at, truth, ranked):
            text = " ".join(vocab.i2w[t] for t in seq[1:-1])
            f.write(f"{text}\t{vocab.i2w[word] if p else ''}\t{' '.join(vocab.i2w[t] for t in top.tolist())}\n")
    print(f"wrote {len(lines)} cloze predictions to {args.output_path}")


if __name__ == "__main__":
    run_main(main)
