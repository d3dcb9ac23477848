#!/usr/bin/env python3
"""Tag sentences with a model fine-tuned by run_ner.py.

Input: a TSV with a header row naming text_a (space-separated tokens). Output: a TSV with the column
pred_label, one space-separated tag per input token."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "ner", inference=True)

if __name__ == "__main__":
    main.run()
