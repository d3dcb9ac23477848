#!/usr/bin/env python3
"""Convert a Google ALBERT TensorFlow checkpoint (google-research/albert's model.ckpt-*, a TF-Hub export's
variables included) to a UER ALBERT model with its MLM and SOP heads, and Google's albert_config.json beside it
(or --albert_config_path) to a UER config (--output_config_path): the factorized embedding, the one shared layer,
Google's "gelu" as the tanh approximation it is ("gelu_new"), Google's layer norm. Needs TensorFlow
(pip install tensorflow-cpu)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["google_albert"], to_uer=True)

if __name__ == "__main__":
    main.run()
