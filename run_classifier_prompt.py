#!/usr/bin/env python3
"""Prompt classification: each text (TSV with a header row: label, text_a[, text_b]) is put into a template
of the prompts file, and the label is the answer word the pre-trained MLM head scores highest at [ANS]. Without
--train_path it evaluates the pre-trained model as it is (zero-shot); with it, it fine-tunes the whole model (a
few labelled examples go a long way) on the answer words' cross-entropy."""
from uer.tasks import script

build_parser, main = script(__doc__, "classifier_prompt")

if __name__ == "__main__":
    main.run()
