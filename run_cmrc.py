#!/usr/bin/env python3
"""Fine-tune extractive reading comprehension on SQuAD-style JSON (CMRC2018): long contexts are cut into
windows of --seq_length with a stride of --doc_stride; reports CMRC2018's EM and F1."""
from uer.tasks import script

build_parser, main = script(__doc__, "cmrc")

if __name__ == "__main__":
    main.run()
