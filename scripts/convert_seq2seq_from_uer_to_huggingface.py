#!/usr/bin/env python3
"""Convert a T5-, BART- or PEGASUS-style UER encoder-decoder model (see convert_seq2seq_from_huggingface_to_uer.py)
to HuggingFace's T5ForConditionalGeneration, BartForConditionalGeneration or PegasusForConditionalGeneration, as
its config says (T5's relative position bias, PEGASUS's fixed sinusoids, or BART's learned positions):
model.safetensors at --output_model_path and config.json beside it."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["t5", "bart", "pegasus"], to_uer=False)

if __name__ == "__main__":
    main.run()
