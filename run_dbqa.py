#!/usr/bin/env python3
"""Document-based question answering (NLPCC-DBQA): TSV files with a header row qid, label, text_a (question),
text_b (candidate answer). Trains a pair classifier and ranks each question's candidates by the probability
of label 1; reports MRR and MAP."""
from uer.tasks import script

build_parser, main = script(__doc__, "dbqa")

if __name__ == "__main__":
    main.run()
