#!/usr/bin/env python3
"""Answer C3 multiple-choice questions with a model fine-tuned by run_c3.py (answers in the input are not
needed). Writes one JSON object per line, {"id": the question's "id" from the input file, "label": the index of
the chosen choice}, the format of UER-py and of C3 submissions (a question without "id" gets ITEM_ID-INDEX)."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser, seq_length=512)
    parser.add_argument("--max_choices_num", type=int, default=4, help="As in fine-tuning.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.choice import read_c3, predicted_choices
    from uer.runtime.runtime import place
    from uer.finetune.inference import load_fine_tuned
    from uer.models.classifier import MultipleChoice
    from uer.core.fileutil import atomic_open
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    examples = read_c3(args.test_path, tokenizer, args.seq_length, args.max_choices_num, with_answers=False)
    model = MultipleChoice(args, len(vocab), vocab)
    load_fine_tuned(model, args)
    model, device = place(model)
    choices = predicted_choices(model, examples, args.batch_size, device)
    with atomic_open(args.prediction_path, "w") as f:
        f.writelines(json.dumps({"id": i, "label": int(c)}, ensure_ascii=False) + "\n"
                     for i, c in zip(examples.fields["id"], choices))
    print(f"wrote {len(choices)} predictions to {args.prediction_path}")


if __name__ == "__main__":
    run_main(main)
