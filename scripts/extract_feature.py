#!/usr/bin/env python3
"""Last-layer hidden states of sentences (one per line of --input_path; "a<TAB>b" lines are pairs), saved with
torch.save to --output_path as UER-py did: one tensor [lines, seq_length, hidden_size], every line padded to
--seq_length and run through the model so ([CLS] first; padding positions hold what the model computes there).
--unpadded saves a list with one [tokens, hidden_size] tensor per line instead (no padding computed)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import probing_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    probing_opts(parser)
    parser.add_argument("--unpadded", action="store_true",
                        help="Save a list of [tokens, hidden_size] tensors, one per line, each as long as its "
                             "line (batches pad to their longest), instead of UER-py's padded tensor.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    import torch
    from uer.finetune.data import Examples, encode_pairs
    from uer.finetune.prediction import predict
    from uer.runtime.runtime import place
    from uer.model_builder import build_for_probing
    from uer.model_saver import atomic_torch_save
    from uer.core.readers import read_lines
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    lines = [line.split("\t", 1) for line in read_lines(args.input_path, "input")]
    texts_b = [p[1] if len(p) > 1 else "" for p in lines] if any(len(p) > 1 for p in lines) else None
    examples = Examples(*encode_pairs(tokenizer, [p[0] for p in lines], texts_b, args.seq_length))
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path), parallel=False)
    if not args.unpadded:
        examples.pad_to = args.seq_length

    def states(model, examples, indices, src, seg):
        hidden = model.encode(src, seg).float().cpu()
        if not args.unpadded:
            return list(hidden)
        return [hidden[r, :examples.length[i]].clone() for r, i in enumerate(indices)]
    features = predict(model, examples, args.batch_size, device, states)
    if not args.unpadded:
        features = torch.stack(features) if features else torch.zeros(0, args.seq_length, args.hidden_size)
    atomic_torch_save(features, args.output_path)
    shape = "" if args.unpadded else f" as one tensor {list(features.shape)}"
    print(f"wrote the features of {len(features)} lines to {args.output_path}{shape}")


if __name__ == "__main__":
    run_main(main)
