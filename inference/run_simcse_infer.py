#!/usr/bin/env python3
"""The cosine similarity of text pairs under a model trained by run_simcse.py (the hidden states the vectors
are pooled from: scripts/extract_feature.py).

Input: a TSV with a header row naming text_a and text_b. Output: a TSV with the column similarity."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_parser, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    return inference_parser(__doc__, pooling="first")


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.inference import predict_test_set, write_predictions
    from uer.finetune.pairs import read_text_pairs, similarities_of
    from uer.models.sentence import SentenceEncoder
    similarity = predict_test_set(args, SentenceEncoder, lambda tokenizer: read_text_pairs(
        args.test_path, tokenizer, args.seq_length), similarities_of)
    write_predictions(args.prediction_path, ["similarity"], [[f"{float(v):.6g}"] for v in similarity],
                      "similarities")


if __name__ == "__main__":
    run_main(main)
