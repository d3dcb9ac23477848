#!/usr/bin/env python3
"""Convert the UER model of a fine-tuning script to a HuggingFace BERT with its head (extractive_qa), as UER-py's
script of the same name (uer/interop/convert_bert_heads.py: text_classification is run_classifier.py's model,
token_classification run_ner.py's, extractive_qa today's UER-py run_cmrc.py's)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["bert_extractive_qa"], to_uer=False)

if __name__ == "__main__":
    main.run()
