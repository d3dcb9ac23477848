#!/usr/bin/env python3
"""Fold the LoRA adapters of a --use_lora run into its pre-trained model: each adapted W becomes
W + (lora_alpha / r) B A, and the run's task head is added, so the result is a full model that loads (and
predicts) without --use_lora, in every script."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--pretrained_model_path", required=True, help="The model the run adapted.")
    parser.add_argument("--lora_model_path", required=True, help="What the --use_lora run saved.")
    parser.add_argument("--output_model_path", required=True)
    parser.add_argument("--lora_alpha", type=float, default=16, help="As in the run (r is read from the file).")
    parser.add_argument("--config_path", default=None,
                        help="The base model's config: needed for a base in TencentPretrain's layout without "
                             "position tables (its rotary layers are read right).")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.runtime.adapters import merged_files
    from uer.model_saver import atomic_torch_save
    from uer.opts import load_config
    config = load_config(args.config_path) if args.config_path else None
    out, pairs = merged_files(args.pretrained_model_path, args.lora_model_path, args.lora_alpha, config)
    atomic_torch_save(out, args.output_model_path)
    print(f"{args.output_model_path}: {pairs} adapted layers merged, {len(out)} weights")


if __name__ == "__main__":
    run_main(main)
