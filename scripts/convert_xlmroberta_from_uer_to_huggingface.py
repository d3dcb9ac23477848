#!/usr/bin/env python3
"""Convert a UER XLM-R model to HuggingFace's XLMRobertaForMaskedLM names (with --config_path, its config.json): the
body as BERT's, learned positions from row 2 ("position_offset"), one token type. Its tokenizer here: --tokenizer
xlmroberta --spm_model_path sentencepiece.bpe.model."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["xlmroberta"], to_uer=False)

if __name__ == "__main__":
    main.run()
