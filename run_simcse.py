#!/usr/bin/env python3
"""Train sentence vectors by SimCSE's contrastive learning on TSV files with a header row. Training: text_a
(unsupervised: each sentence is its own positive, the two passes differing by dropout) or text_a, text_b
(supervised: the pairs are positives); the other sentences of the batch are the negatives. Development and
test: text_a, text_b, label (a similarity score); reported: Spearman (which keeps the best epoch) and Pearson
correlation of the cosine similarity with the labels."""
from uer.tasks import script

build_parser, main = script(__doc__, "simcse")

if __name__ == "__main__":
    main.run()
