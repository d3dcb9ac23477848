#!/usr/bin/env python3
"""Convert a UER ALBERT model to HuggingFace's AlbertForPreTraining (model.safetensors; with --config_path its
config.json): the factorized embedding, the one shared layer, the MLM head with the config's activation, the SOP
head."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["albert"], to_uer=False)

if __name__ == "__main__":
    main.run()
