#!/usr/bin/env python3
"""Convert a HuggingFace encoder-decoder model, T5ForConditionalGeneration (v1.0 or v1.1), BartForConditionalGeneration
or PegasusForConditionalGeneration (a folder with config.json and model.safetensors, or its shards with their
index), to a UER encoder-decoder model, and its config.json to a UER config that describes the whole model. Tensors
are read one at a time."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["t5", "bart", "pegasus"], to_uer=True)

if __name__ == "__main__":
    main.run()
