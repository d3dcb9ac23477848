#!/usr/bin/env python3
"""Fine-tune a classifier (single sentences or pairs) on TSV files with a header row: label, text_a[, text_b]
(and logits, for --soft_targets)."""
from uer.tasks import script

build_parser, main = script(__doc__, "classifier")

if __name__ == "__main__":
    main.run()
