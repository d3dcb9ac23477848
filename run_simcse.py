#!/usr/bin/env python3
"""Train sentence vectors by SimCSE's contrastive learning on TSV files with a header row. Training: text_a
(unsupervised: each sentence is its own positive, the two passes differing by dropout) or text_a, text_b
(supervised: the pairs are positives); the other sentences of the batch are the negatives. Development and
test: text_a, text_b, label (a similarity score); reported: Spearman (which keeps the best epoch) and Pearson
correlation of the cosine similarity with the labels."""
import argparse
import sys

from uer.opts import finetune_opts, parse
from uer.layers.pooling import POOLINGS
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/simcse_model.bin", learning_rate=3e-5, epochs_num=1)
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sentence vector is formed.")
    parser.add_argument("--temperature", type=float, default=0.05, help="Of the contrastive softmax.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.loop import FineTuner
    from uer.finetune.pairs import read_text_pairs, contrastive_loss, similarity_evaluator
    from uer.models.sentence import SentenceEncoder
    from uer.core.errors import UserInputError
    from uer.text.tokenizers import load_vocab_and_tokenizer
    if args.temperature <= 0:
        raise UserInputError(f"--temperature must be positive, not {args.temperature}")
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_text_pairs(args.train_path, tokenizer, args.seq_length, second_text=False)
    dev, test = (read_text_pairs(path, tokenizer, args.seq_length, "score") if path else None
                 for path in (args.dev_path, args.test_path))
    print(train.describe("training") + (" (each its own positive)" if train.self_paired else ""), flush=True)
    if train.self_paired and args.dropout == 0:
        print("warning: unsupervised SimCSE with dropout 0: a sentence's two passes are identical, only the "
              "negatives teach; set \"dropout\" in the config (SimCSE: 0.1)", file=sys.stderr)
    tuner = FineTuner(args, SentenceEncoder, vocab)
    tuner.run(train, dev, test, contrastive_loss(args.temperature, tuner.runtime), similarity_evaluator(args.batch_size, tuner.runtime))


if __name__ == "__main__":
    run_main(main)
