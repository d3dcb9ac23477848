#!/usr/bin/env python3
"""Fine-tune a regressor (a number per text or pair, e.g. STS-B similarity scores) on TSV files with a header
row: label (a float), text_a[, text_b]. Loss: mean squared error; reported: Pearson (which keeps the best
epoch) and Spearman correlations."""
from uer.tasks import script

build_parser, main = script(__doc__, "regression")

if __name__ == "__main__":
    main.run()
