#!/usr/bin/env python3
"""Convert a UER BERT model to HuggingFace (BertForPreTraining names; MLM and NSP heads when present).

--output_model_path ending in .safetensors writes safetensors, otherwise a torch pytorch_model.bin. With
--config_path (the UER config) a HuggingFace config.json is written beside it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["bert"], to_uer=False)

if __name__ == "__main__":
    main.run()
