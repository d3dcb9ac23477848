#!/usr/bin/env python3
"""Print a model file's keys, shapes and parameter count; with --config_path (and the model flags), also say
whether it loads into that model: which keys are missing, unexpected or of another shape."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import model_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--load_model_path", required=True, help="Model file to check.")
    parser.add_argument("--vocab_size", type=int, default=None, help="Vocabulary size (default: from the file).")
    model_opts(parser)
    parser.set_defaults(config_path=None)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.model_builder import build_model
    from uer.model_loader import read_state_dict, load_model
    from uer.model_layout import layout_of, successor_names
    state = read_state_dict(args.load_model_path)
    for key, value in state.items():
        print(f"{key}\t{list(value.shape)}\t{str(value.dtype).replace('torch.', '')}")
    unique = {id(v): v.numel() for v in state.values()}
    print(f"{len(state)} tensors, {sum(unique.values()):,} parameters, {layout_of(state)} layout")
    if not args.config_path:
        return
    words = "embedding.word_embedding.weight"
    words = words if layout_of(state) == "uer" else successor_names(words)[0]
    vocab_size = args.vocab_size or state[words].shape[0]
    report = load_model(build_model(args, vocab_size), args.load_model_path)
    if report["missing"] or report["unexpected"]:
        print(f"loads into --config_path {args.config_path} with {len(report['missing'])} missing and "
              f"{len(report['unexpected'])} unexpected keys (listed above)")
    else:
        print(f"loads into --config_path {args.config_path} exactly")


if __name__ == "__main__":
    run_main(main)
