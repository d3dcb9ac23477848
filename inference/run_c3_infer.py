#!/usr/bin/env python3
"""Answer C3 multiple-choice questions with a model fine-tuned by run_c3.py (answers in the input are not
needed). Writes one JSON object per line, {"id": the question's "id" from the input file, "label": the index of
the chosen choice}, the format of UER-py and of C3 submissions (a question without "id" gets ITEM_ID-INDEX)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.tasks import script  # noqa: E402

build_parser, main = script(__doc__, "c3", inference=True)

if __name__ == "__main__":
    main.run()
