#!/usr/bin/env python3
"""Multiple-choice reading comprehension (C3): JSON items [[context sentences], [{question, choice, answer}],
id]; each choice is scored against the question and context, and the best-scoring choice is the answer."""
import argparse

from uer.opts import finetune_opts, parse
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/multichoice_model.bin", batch_size=32, epochs_num=8,
                  seq_length=512)
    parser.add_argument("--max_choices_num", type=int, default=4, help="Most choices of a question.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.choice import read_c3, choice_loss, choice_evaluator
    from uer.finetune.loop import fine_tune_task
    from uer.models.classifier import MultipleChoice
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    fine_tune_task(args, MultipleChoice, vocab,
                   lambda path: read_c3(path, tokenizer, args.seq_length, args.max_choices_num), choice_loss,
                   lambda runtime: choice_evaluator(args.batch_size, runtime))


if __name__ == "__main__":
    run_main(main)
