#!/usr/bin/env python3
"""Convert a UER GPT-2-style model (word_pos embedding, pre-LN gpt encoder, tied lm target) to HuggingFace's
GPT2LMHeadModel names. --output_model_path ending in .safetensors writes safetensors, otherwise a torch
pytorch_model.bin; with --config_path (the UER config) a GPT-2 config.json is written beside it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import uer_to_hf_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def main(argv=None):
    args = uer_to_hf_parser(__doc__).parse_args(argv)
    from uer.model_loader import read_in_uer_layout
    from uer.opts import load_config
    from uer.interop.convert_hf import write_hf_weights, write_json
    from uer.interop.convert_gpt2 import uer_to_gpt2, uer_config_to_gpt2
    state = read_in_uer_layout(args.input_model_path, {})
    vocab_size = state["embedding.word_embedding.weight"].shape[0]
    config = uer_config_to_gpt2(load_config(args.config_path), vocab_size) if args.config_path else None
    out = uer_to_gpt2(state, args.layers_num)
    write_hf_weights(out, args.output_model_path)
    print(f"wrote {args.output_model_path}: {len(out)} tensors")
    if config:
        write_json(config, os.path.join(os.path.dirname(os.path.abspath(args.output_model_path)), "config.json"))


if __name__ == "__main__":
    run_main(main)
