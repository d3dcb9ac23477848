#!/usr/bin/env python3
"""Predict ChID blanks with a run_chid.py model: each passage group's candidates assigned to its blanks by score,
each once (UER-py's assignment); writes {"#idiom000123#": candidate index} JSON to --prediction_path."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "chid", inference=True)

if __name__ == "__main__":
    main.run()
