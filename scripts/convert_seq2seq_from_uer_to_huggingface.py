#!/usr/bin/env python3
"""Convert a T5- or BART-style UER encoder-decoder model (see convert_seq2seq_from_huggingface_to_uer.py) to
HuggingFace's T5ForConditionalGeneration or BartForConditionalGeneration, as its config says (T5's relative
position bias or not): model.safetensors at --output_model_path and config.json beside it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.hf_files import hf_conversion_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    return hf_conversion_parser(__doc__, to_uer=False)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.opts import load_config
    from uer.interop import convert_seq2seq
    from uer.interop.hf_files import uer_to_hf_folder
    family = convert_seq2seq.family_of_uer(load_config(args.config_path))
    uer_to_hf_folder(args, family.uer_config_to_hf, family.uer_to_hf_pairs)


if __name__ == "__main__":
    run_main(main)
