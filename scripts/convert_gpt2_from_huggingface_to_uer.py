#!/usr/bin/env python3
"""Convert a HuggingFace GPT-2 (GPT2LMHeadModel or GPT2Model: pytorch_model.bin, model.safetensors, or their
folder) to a UER model, and its config.json to a UER config that describes the whole model (word_pos
embedding, pre-LN gpt encoder, tied lm target, gelu_new), so generate.py and pretrain.py need no model flag."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["gpt2"], to_uer=True)

if __name__ == "__main__":
    main.run()
