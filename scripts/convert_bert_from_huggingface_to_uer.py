#!/usr/bin/env python3
"""Convert a HuggingFace BERT (pytorch_model.bin, model.safetensors, or their folder) to a UER model.

The MLM and NSP heads are converted when present. When a config.json sits beside the input (or is given with
--hf_config_path), a UER config with the same sizes, hidden_act and HF's layer norm ("layer_norm_unbiased":
false, eps 1e-12) is written to --output_config_path, so that the converted model computes what the source
computed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["bert"], to_uer=True)

if __name__ == "__main__":
    main.run()
