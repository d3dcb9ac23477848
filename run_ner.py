#!/usr/bin/env python3
"""Fine-tune a sequence labeler (NER with BIO tags) on TSV files with a header row: text_a (space-separated
tokens) and label (one tag per token); --label2id_path maps tags to ids. Reports entity-level F1. With
--crf_target the tags of a sentence are scored together by a linear-chain CRF."""
import argparse

from uer.opts import finetune_opts, parse
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/ner_model.bin", batch_size=32, epochs_num=3)
    parser.add_argument("--label2id_path", required=True, help="JSON object: tag -> id.")
    parser.add_argument("--crf_target", action="store_true",
                        help="A CRF over the tag scores: sentence-level likelihood, Viterbi decoding.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.loop import fine_tune_task
    from uer.finetune.tagging import tagging_setup, read_tagging, tagging_loss, tagging_evaluator
    from uer.models.tagger import Tagger
    vocab, id2label = tagging_setup(args)
    fine_tune_task(args, Tagger, vocab,
                   lambda path: read_tagging(path, vocab, args.seq_length, args.label2id), tagging_loss,
                   lambda runtime: tagging_evaluator(args.batch_size, runtime, id2label))


if __name__ == "__main__":
    run_main(main)
