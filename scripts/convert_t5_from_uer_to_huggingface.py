#!/usr/bin/env python3
"""Convert a T5-style UER encoder-decoder model (see convert_t5_from_huggingface_to_uer.py) to HuggingFace's
T5ForConditionalGeneration: model.safetensors at --output_model_path and config.json beside it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.utils.interop.hf_files import hf_conversion_parser  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def build_parser():
    return hf_conversion_parser(__doc__, to_uer=False)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.utils.interop import convert_t5
    from uer.utils.interop.hf_files import uer_to_hf_folder
    uer_to_hf_folder(args, convert_t5.uer_config_to_hf, lambda state, config: convert_t5.uer_to_hf(
        state, config["feed_forward_proj"].startswith("gated"), config["tie_word_embeddings"]).items())


if __name__ == "__main__":
    run_main(main)
