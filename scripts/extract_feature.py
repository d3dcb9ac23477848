#!/usr/bin/env python3
"""Last-layer hidden states of sentences (one per line of --input_path; "a<TAB>b" lines are pairs), saved
with torch.save to --output_path as a list with one [tokens, hidden_size] tensor per line ([CLS] first)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import probing_opts, parse  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    probing_opts(parser)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.data import Examples, encode_pairs
    from uer.finetune.loop import place, predict
    from uer.model_builder import build_for_probing
    from uer.model_saver import atomic_torch_save
    from uer.utils.readers import read_lines
    from uer.utils.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    lines = [line.split("\t", 1) for line in read_lines(args.input_path, "input")]
    texts_b = [p[1] if len(p) > 1 else "" for p in lines] if any(len(p) > 1 for p in lines) else None
    examples = Examples(*encode_pairs(tokenizer, [p[0] for p in lines], texts_b, args.seq_length))
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path), parallel=False)

    def states(model, examples, indices, src, seg):
        hidden = model.encode(src, seg).float().cpu()
        return [hidden[r, :examples.length[i]].clone() for r, i in enumerate(indices)]
    features = predict(model, examples, args.batch_size, device, states)
    atomic_torch_save(features, args.output_path)
    print(f"wrote the features of {len(features)} lines to {args.output_path}")


if __name__ == "__main__":
    run_main(main)
