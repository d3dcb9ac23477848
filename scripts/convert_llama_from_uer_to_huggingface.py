#!/usr/bin/env python3
"""Convert a LLaMA-style UER model (see convert_llama_from_huggingface_to_uer.py) to HuggingFace's
LlamaForCausalLM (Qwen2ForCausalLM when its query/key/value projections have biases): model.safetensors at
--output_model_path and config.json beside it. The UER file is mapped, not read: the conversion holds the
model about once."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["llama"], to_uer=False)

if __name__ == "__main__":
    main.run()
