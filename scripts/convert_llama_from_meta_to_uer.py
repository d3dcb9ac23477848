#!/usr/bin/env python3
"""Convert Meta's original LLaMA checkpoint (a folder with consolidated.00.pth, ... and params.json; its
model-parallel shards merged) to a UER model and config, as TencentPretrain's convert_llama_to_tencentpretrain.py
reads it: the rotary query/key rows reordered from Meta's adjacent pairs to UER's halves."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["meta_llama"], to_uer=True)

if __name__ == "__main__":
    main.run()
