#!/usr/bin/env python3
"""Convert a UER GPT-2-style model (word_pos embedding, pre-LN gpt encoder, tied lm target) to HuggingFace's
GPT2LMHeadModel names. --output_model_path ending in .safetensors writes safetensors, otherwise a torch
pytorch_model.bin; with --config_path (the UER config) a GPT-2 config.json is written beside it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["gpt2"], to_uer=False)

if __name__ == "__main__":
    main.run()
