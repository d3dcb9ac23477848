#!/usr/bin/env python3
"""Convert a LLaMA-style UER model (see convert_llama_from_huggingface_to_uer.py) to HuggingFace's
LlamaForCausalLM (Qwen2ForCausalLM when its query/key/value projections have biases): model.safetensors at
--output_model_path and config.json beside it. The UER file is mapped, not read: the conversion holds the
model about once."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import conversion_opts  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    conversion_opts(parser, "UER model file.", "model.safetensors to write (config.json goes beside it).",
                    layers=False)
    parser.add_argument("--config_path", required=True, help="UER config of the model.")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch
    from uer.model_loader import read_state_dict
    from uer.opts import load_config
    from uer.utils.errors import UserInputError
    from uer.utils.interop import convert_llama
    from uer.utils.interop.convert_hf import write_json
    from uer.utils.interop.hf_files import write_safetensors
    if not args.output_model_path.endswith(".safetensors"):
        raise UserInputError(f"--output_model_path {args.output_model_path}: expected a .safetensors file")
    state = read_state_dict(args.input_model_path, mmap=True)
    vocab_size = state["embedding.word_embedding.weight"].shape[0]
    config = convert_llama.uer_config_to_hf(load_config(args.config_path), vocab_size)
    tied = config["tie_word_embeddings"]
    if tied and not torch.equal(state["target.output_layer.weight"], state["embedding.word_embedding.weight"]):
        raise UserInputError(f"{args.config_path} says tie_weights, but the model's output layer differs from its "
                             "word embedding")
    write_safetensors(convert_llama.uer_to_hf(state.items(), tied), args.output_model_path)
    print(f"wrote {args.output_model_path}")
    write_json(config, os.path.join(os.path.dirname(os.path.abspath(args.output_model_path)), "config.json"))


if __name__ == "__main__":
    run_main(main)
