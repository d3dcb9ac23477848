#!/usr/bin/env python3
"""Predict the labels of each text with a model fine-tuned by run_classifier_multi_label.py.

Input: a TSV with a header row naming text_a (and text_b for pairs). Output: a TSV with the column label (the
comma-separated ids of the labels at probability >= 0.5, empty for none) and, with --output_prob, prob (every
label's probability, space-separated)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "classifier_multi_label", inference=True)

if __name__ == "__main__":
    main.run()
