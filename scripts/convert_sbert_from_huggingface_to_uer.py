#!/usr/bin/env python3
"""Convert a sentence-transformers BERT model (a folder with modules.json) to the two-tower model of
run_classifier_siamese.py and run_simcse.py: the encoder, and a UER config with its pooling ("pooling": mean,
first or max) and "normalize_sentence_vectors" when it ends with a Normalize module; its sentence vectors are
then sentence-transformers' (scripts/convert_bert_from_uer_to_huggingface.py writes the encoder back)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.interop.conversion import script  # noqa: E402

build_parser, main = script(__doc__, ["sbert"], to_uer=True)

if __name__ == "__main__":
    main.run()
