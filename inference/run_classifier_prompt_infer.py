#!/usr/bin/env python3
"""Predict labels with a prompt classifier: a model fine-tuned by run_classifier_prompt.py, or a pre-trained
model with an MLM head as it is (zero-shot).

Input: a TSV with a header row naming text_a (and text_b where the template has [TEXT_B]). Output: a TSV with
the columns label, logits (--output_logits: the answer words' scores) and prob (--output_prob)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "classifier_prompt", inference=True)

if __name__ == "__main__":
    main.run()
