#!/usr/bin/env python3
"""Convert a UER BERT model to a Google BERT TensorFlow checkpoint (OUTPUT.index and OUTPUT.data-*), MLM and
NSP heads included. Needs TensorFlow (pip install tensorflow-cpu)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["google"], to_uer=False)

if __name__ == "__main__":
    main.run()
