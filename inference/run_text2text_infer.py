#!/usr/bin/env python3
"""Generate a target text for each row of --test_path (a TSV with a header row naming text_a, and text_b for
pairs) with a model fine-tuned by run_text2text.py; writes one generated text a line, in input order.

Decoding: greedy (the default, in batches of --batch_size), or beam search with --beam_width B > 1 and
--length_penalty, as scripts/generate_seq2seq.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "text2text", inference=True)

if __name__ == "__main__":
    main.run()
