#!/usr/bin/env python3
"""Convert a HuggingFace BERT (pytorch_model.bin, model.safetensors, or their folder) to a UER model.

The MLM and NSP heads are converted when present. When a config.json sits beside the input (or is given with
--hf_config_path), a UER config with the same sizes, hidden_act and HF's layer norm ("layer_norm_unbiased":
false, eps 1e-12) is written to --output_config_path, so that the converted model computes what the source
computed."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import conversion_opts  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    conversion_opts(parser, "HF weights file or model folder.", "UER model file to write.")
    parser.add_argument("--hf_config_path", default=None, help="HF config.json (default: beside the input).")
    parser.add_argument("--output_config_path", default=None,
                        help="UER config to write (default: OUTPUT_MODEL_PATH with .json for its extension).")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.model_saver import atomic_torch_save
    from uer.utils.interop.convert_hf import read_hf_weights, hf_to_uer, weights_file, write_uer_config
    state = hf_to_uer(read_hf_weights(args.input_model_path), args.layers_num)
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")
    hf_config = args.hf_config_path or os.path.join(os.path.dirname(weights_file(args.input_model_path)),
                                                    "config.json")
    write_uer_config(hf_config, args.output_config_path, args.output_model_path, "HuggingFace config")


if __name__ == "__main__":
    run_main(main)
