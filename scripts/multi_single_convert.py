#!/usr/bin/env python3
"""Remove or add the `module.` prefix that DataParallel / DistributedDataParallel give a model's keys (UER-py
2020's competition kit), so a model saved from a wrapped model loads into a plain one and back."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402

PREFIX = "module."


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--input_model_path", required=True)
    parser.add_argument("--output_model_path", required=True)
    way = parser.add_mutually_exclusive_group(required=True)
    way.add_argument("--delete_module_prefix", action="store_true", help="module.x -> x (wrapped -> plain).")
    way.add_argument("--add_module_prefix", action="store_true", help="x -> module.x (plain -> wrapped).")
    return parser


def convert(state, add):
    if add:
        return {k if k.startswith(PREFIX) else PREFIX + k: v for k, v in state.items()}
    return {k[len(PREFIX):] if k.startswith(PREFIX) else k: v for k, v in state.items()}


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.model_loader import read_state_dict
    from uer.model_saver import atomic_torch_save
    state = read_state_dict(args.input_model_path)
    converted = convert(state, args.add_module_prefix)
    changed = sum(a != b for a, b in zip(state, converted))
    atomic_torch_save(converted, args.output_model_path)
    print(f"{args.output_model_path}: {len(converted)} keys, {changed} renamed")


if __name__ == "__main__":
    run_main(main)
