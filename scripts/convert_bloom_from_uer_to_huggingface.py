#!/usr/bin/env python3
"""Convert a BLOOM UER model to HuggingFace's BloomForCausalLM (model.safetensors; with --config_path its config.json):
ALiBi, the embedding's layer norm, the fused query/key/value split per head (and joined back)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["bloom"], to_uer=False)

if __name__ == "__main__":
    main.run()
