#!/usr/bin/env python3
"""Answer SQuAD-style questions (CMRC2018 JSON; answers not needed) with a model fine-tuned by run_cmrc.py.
Writes a JSON object {question id: answer text}."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "cmrc", inference=True)

if __name__ == "__main__":
    main.run()
