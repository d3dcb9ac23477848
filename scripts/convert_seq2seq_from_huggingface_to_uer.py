#!/usr/bin/env python3
"""Convert a HuggingFace encoder-decoder model, T5ForConditionalGeneration (v1.0 or v1.1) or
BartForConditionalGeneration (a folder with config.json and model.safetensors, or its shards with their
index), to a UER encoder-decoder model, and its config.json to a UER config that describes the whole model.
Tensors are read one at a time."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.hf_files import hf_conversion_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    return hf_conversion_parser(__doc__, to_uer=True)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.interop import convert_seq2seq
    from uer.interop.hf_files import hf_folder_to_uer
    hf_folder_to_uer(args, convert_seq2seq.hf_config_to_uer,
                     lambda tensors, hf_config: convert_seq2seq.family_of_hf(hf_config, "").hf_to_uer(tensors))


if __name__ == "__main__":
    run_main(main)
