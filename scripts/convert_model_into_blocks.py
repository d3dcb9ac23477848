#!/usr/bin/env python3
"""Split a UER model file into blocks of at most --block_size GB (TencentPretrain's convert_model_into_blocks.py
layout): a folder of tencentpretrain_model-0.bin, -1.bin, ... and tencentpretrain_model.bin.index.json, whose
"weight_map" names each parameter's block. Every script that reads a model (pretrain.py --pretrained_model_path,
fine-tuning, inference, the converters, generation) takes the folder (or its index file) in its place."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--input_model_path", required=True, help="UER model file.")
    parser.add_argument("--output_model_path", required=True, help="Folder to write the blocks and the index to.")
    parser.add_argument("--block_size", type=float, default=10, help="Largest block, in GB (10^9 bytes).")
    return parser


def blocks(state, limit):
    """[[names]] in the file's order, each block's tensors at most `limit` bytes (a larger tensor alone)."""
    out, size = [[]], 0
    for name, tensor in state.items():
        nbytes = tensor.numel() * tensor.element_size()
        if out[-1] and size + nbytes > limit:
            out.append([])
            size = 0
        out[-1].append(name)
        size += nbytes
    return out


def main(argv=None):
    args = build_parser().parse_args(argv)
    import json
    from uer.core.errors import UserInputError
    from uer.core.fileutil import atomic_open
    from uer.model_loader import BLOCKS_INDEX, read_state_dict
    from uer.model_saver import atomic_torch_save
    if args.block_size <= 0:
        raise UserInputError(f"--block_size must be positive, not {args.block_size}")
    state = read_state_dict(args.input_model_path, mmap=True)
    os.makedirs(args.output_model_path, exist_ok=True)
    index = {"weight_map": {}, "metadata": {"total_size": sum(t.numel() * t.element_size() for t in state.values())}}
    parts = blocks(state, args.block_size * 1e9)
    for i, names in enumerate(parts):
        filename = f"tencentpretrain_model-{i}.bin"
        atomic_torch_save({k: state[k].contiguous() for k in names}, os.path.join(args.output_model_path, filename))
        index["weight_map"].update({k: filename for k in names})
    with atomic_open(os.path.join(args.output_model_path, BLOCKS_INDEX), "w") as f:
        json.dump(index, f, indent=2)
    print(f"wrote {args.output_model_path}: {len(state)} tensors in {len(parts)} blocks and {BLOCKS_INDEX}")


if __name__ == "__main__":
    run_main(main)
