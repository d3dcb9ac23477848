#!/usr/bin/env python3
"""Convert a LLaMA-style UER model (see convert_llama_from_huggingface_to_uer.py) to HuggingFace's
LlamaForCausalLM (Qwen2ForCausalLM when its query/key/value projections have biases): model.safetensors at
--output_model_path and config.json beside it. The UER file is mapped, not read: the conversion holds the
model about once."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.hf_files import hf_conversion_parser  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    return hf_conversion_parser(__doc__, to_uer=False)


def hf_tensors(state, config):
    import torch
    from uer.core.errors import UserInputError
    from uer.interop import convert_llama
    tied = config["tie_word_embeddings"]
    if tied and not torch.equal(state["target.output_layer.weight"], state["embedding.word_embedding.weight"]):
        raise UserInputError("the config says tie_weights, but the model's output layer differs from its word "
                             "embedding")
    return convert_llama.uer_to_hf(state.items(), tied)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.interop import convert_llama
    from uer.interop.hf_files import uer_to_hf_folder
    uer_to_hf_folder(args, convert_llama.uer_config_to_hf, hf_tensors)


if __name__ == "__main__":
    run_main(main)
