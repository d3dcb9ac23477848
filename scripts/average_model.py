#!/usr/bin/env python3
"""Average the weights of several checkpoints of the same model (a cheap ensemble)."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model_list_path", required=True, nargs="+", help="Checkpoints to average.")
    parser.add_argument("--output_model_path", required=True)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.model_loader import read_state_dict
    from uer.model_saver import atomic_torch_save
    from uer.core.errors import UserInputError
    from uer.model_layout import layout_of
    from uer.monitor.progress import progress
    states = [read_state_dict(p) for p in progress(args.model_list_path, desc="reading", unit="model")]
    first = states[0]
    for path, state in zip(args.model_list_path[1:], states[1:]):
        if layout_of(state) != layout_of(first):
            raise UserInputError(f"{path} is in the {layout_of(state)} key layout, {args.model_list_path[0]} in the "
                                 f"{layout_of(first)} one: write them in one with scripts/convert_model_layout.py")
        if state.keys() != first.keys() or any(state[k].shape != first[k].shape for k in first):
            raise UserInputError(f"{path} does not have the keys and shapes of {args.model_list_path[0]}")
    average = {k: (sum(s[k].double() for s in states) / len(states)).to(first[k].dtype) if first[k].is_floating_point()
               else first[k] for k in first}
    atomic_torch_save(average, args.output_model_path)
    print(f"wrote the average of {len(states)} models to {args.output_model_path}")


if __name__ == "__main__":
    run_main(main)
