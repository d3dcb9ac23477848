#!/usr/bin/env python3
"""Convert a UER ALBERT model (its MLM output tied to the word embedding, as Google's) to a Google ALBERT
TensorFlow checkpoint (--output_model_path is the checkpoint prefix, e.g. model.ckpt); with --config_path, Google's
albert_config.json is written beside it. One extra variable Google's code never reads
(uer/segment_padding_embedding) makes UER -> Google -> UER exact. Needs TensorFlow (pip install tensorflow-cpu)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["google_albert"], to_uer=False)

if __name__ == "__main__":
    main.run()
