#!/usr/bin/env python3
"""Fine-tune on ChID (idiom cloze, UER-py's format): JSON lines of {"candidates": [...], "content": [...]} with
#idiom000123# blanks and an answer file per set; each blank a multiple choice over its passage's candidates,
scored by accuracy; characters are the tokens."""
from uer.tasks import script

build_parser, main = script(__doc__, "chid")

if __name__ == "__main__":
    main.run()
