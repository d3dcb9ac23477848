#!/usr/bin/env python3
"""The cosine similarity of text pairs under a model trained by run_simcse.py (the hidden states the vectors
are pooled from: scripts/extract_feature.py).

Input: a TSV with a header row naming text_a and text_b. Output: a TSV with the column similarity."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "simcse", inference=True)

if __name__ == "__main__":
    main.run()
