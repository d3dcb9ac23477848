#!/usr/bin/env python3
"""Fine-tune a regressor (a number per text or pair, e.g. STS-B similarity scores) on TSV files with a header
row: label (a float), text_a[, text_b]. Loss: mean squared error; reported: Pearson (which keeps the best
epoch) and Spearman correlations."""
from uer.opts import pooled_classifier_parser, parse
from uer.core.cli import run_main


def build_parser():
    return pooled_classifier_parser(__doc__, "models/regression_model.bin")


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.loop import fine_tune_task
    from uer.finetune.regression import read_scored, regression_loss, regression_evaluator
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    args.labels_num, args.labels_source = 1, "regression (one output)"
    fine_tune_task(args, Classifier, vocab, lambda path: read_scored(path, tokenizer, args.seq_length),
                   regression_loss, lambda runtime: regression_evaluator(args.batch_size, runtime))


if __name__ == "__main__":
    run_main(main)
