#!/usr/bin/env python3
"""Fine-tune a sequence labeler (NER with BIO tags) on TSV files with a header row: text_a (space-separated
tokens) and label (one tag per token); --label2id_path maps tags to ids. Reports entity-level F1. With
--crf_target the tags of a sentence are scored together by a linear-chain CRF."""
from uer.tasks import script

build_parser, main = script(__doc__, "ner")

if __name__ == "__main__":
    main.run()
