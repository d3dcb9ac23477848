#!/usr/bin/env python3
"""Convert a Google BERT TensorFlow checkpoint (e.g. bert_model.ckpt) to a UER model, MLM and NSP heads
included. When Google's bert_config.json sits beside the checkpoint (or is given with --bert_config_path), a UER
config is written to --output_config_path with the checkpoint's sizes, hidden_act and Google's layer norm
("layer_norm_unbiased": false, "layer_norm_eps": 1e-12), so that the converted model computes what the
checkpoint computed. Needs TensorFlow (pip install tensorflow-cpu)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["google"], to_uer=True)

if __name__ == "__main__":
    main.run()
