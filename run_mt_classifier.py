#!/usr/bin/env python3
"""Multi-task classification: one shared embedding and encoder, one classifier head per task. Each folder of
--dataset_path_list holds a task's train.tsv and dev.tsv (UER classification TSVs). The kept model is the one
with the best mean dev accuracy."""
from uer.tasks import script

build_parser, main = script(__doc__, "mt_classifier")

if __name__ == "__main__":
    main.run()
