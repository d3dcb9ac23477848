#!/usr/bin/env python3
"""Fine-tune an encoder-decoder model (T5, BART; a config with "decoder") to generate text: TSV files with a header
row text_a [text_b] label, the label being the target text (a translation, a summary, an answer, or a class
written as words). After each epoch the model generates the dev targets greedily and is scored by exact match
(and --metric bleu or rouge_l); the best epoch is kept."""
import argparse

from uer.opts import finetune_opts, seq2seq_target_opts, parse
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/text2text_model.bin", learning_rate=1e-4, batch_size=32)
    seq2seq_target_opts(parser)
    parser.add_argument("--metric", choices=["exact_match", "bleu", "rouge_l"], default="exact_match",
                        help="Dev score that picks the best epoch (exact match is reported too): bleu is sacrebleu's "
                             "corpus BLEU (0-100) over the target tokens, rouge_l the mean ROUGE-L F1 (0-1).")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.text2text import fine_tune_text2text
    fine_tune_text2text(args)


if __name__ == "__main__":
    run_main(main)
