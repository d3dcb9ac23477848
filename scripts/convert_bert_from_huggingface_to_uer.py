#!/usr/bin/env python3
"""Convert a HuggingFace BERT (pytorch_model.bin, model.safetensors, or their folder) to a UER model.

The MLM and NSP heads are converted when present. When a config.json sits beside the input (or is given with
--hf_config_path), a UER config with the same sizes, hidden_act and HF's layer norm ("layer_norm_unbiased":
false, eps 1e-12) is written to --output_config_path, so that the converted model computes what the source
computed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import hf_to_uer_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def main(argv=None):
    args = hf_to_uer_parser(__doc__).parse_args(argv)
    from uer.model_saver import atomic_torch_save
    from uer.interop.convert_hf import read_hf_weights, hf_to_uer, config_beside, write_uer_config
    state = hf_to_uer(read_hf_weights(args.input_model_path), args.layers_num)
    atomic_torch_save(state, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(state)} tensors")
    write_uer_config(config_beside(args.input_model_path, args.hf_config_path), args.output_config_path,
                     args.output_model_path, "HuggingFace config")


if __name__ == "__main__":
    run_main(main)
