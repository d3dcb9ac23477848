#!/usr/bin/env python3
"""Fine-tune a multi-label classifier (any number of labels per text or pair) on TSV files with a header row:
label (comma-separated label ids, e.g. 0,3,5), text_a[, text_b]. Loss: binary cross-entropy of every label;
reported: micro-F1 (which keeps the best epoch) and macro-F1, labels predicted at probability >= 0.5."""
from uer.tasks import script

build_parser, main = script(__doc__, "classifier_multi_label")

if __name__ == "__main__":
    main.run()
