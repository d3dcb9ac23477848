"""The dbqa task, run_dbqa.py: its options, its fine-tuning and its prediction."""
import argparse

from uer.opts import finetune_opts
from uer.layers.pooling import POOLINGS


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/dbqa_model.bin", batch_size=32)
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sequence vector is formed.")
    return parser


def fine_tune(args):
    from uer.tasks.classification import read_classification, classifier_loss, ranking_evaluator
    from uer.finetune.loop import fine_tune_task
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    fine_tune_task(args, Classifier, vocab,
                   lambda path: read_classification(path, tokenizer, args.seq_length, 2, extra=["qid"]),
                   classifier_loss(), lambda runtime: ranking_evaluator(args.batch_size, runtime),
                   labels_num=2, labels_source="DBQA's two labels")
