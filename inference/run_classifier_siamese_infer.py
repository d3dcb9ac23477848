#!/usr/bin/env python3
"""Predict the labels of text pairs with a model fine-tuned by run_classifier_siamese.py.

Input: a TSV with a header row naming text_a and text_b. Output: a TSV with the columns label, logits
(--output_logits) and prob (--output_prob); logits and probabilities are space-separated."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "classifier_siamese", inference=True)

if __name__ == "__main__":
    main.run()
