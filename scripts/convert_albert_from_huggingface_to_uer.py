#!/usr/bin/env python3
"""Convert a HuggingFace AlbertForPreTraining or AlbertModel (a folder with config.json and weights) to a UER ALBERT
model and config: the factorized embedding, the one shared layer, the MLM head with the config's activation, the SOP
head."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["albert"], to_uer=True)

if __name__ == "__main__":
    main.run()
