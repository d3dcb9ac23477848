#!/usr/bin/env python3
"""Document-based question answering (NLPCC-DBQA): TSV files with a header row qid, label, text_a (question),
text_b (candidate answer). Trains a pair classifier and ranks each question's candidates by the probability
of label 1; reports MRR and MAP."""
import argparse

from uer.opts import finetune_opts, parse
from uer.layers.pooling import POOLINGS
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/dbqa_model.bin", batch_size=32)
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sequence vector is formed.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.classification import read_classification, classifier_loss, ranking_evaluator
    from uer.finetune.loop import fine_tune_task
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    args.labels_num = 2
    fine_tune_task(args, Classifier, vocab,
                   lambda path: read_classification(path, tokenizer, args.seq_length, 2, extra=["qid"]),
                   classifier_loss(), lambda runtime: ranking_evaluator(args.batch_size, runtime))


if __name__ == "__main__":
    run_main(main)
