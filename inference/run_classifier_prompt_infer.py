#!/usr/bin/env python3
"""Predict labels with a prompt classifier: a model fine-tuned by run_classifier_prompt.py, or a pre-trained
model with an MLM head as it is (zero-shot).

Input: a TSV with a header row naming text_a (and text_b where the template has [TEXT_B]). Output: a TSV with
the columns label, logits (--output_logits: the answer words' scores) and prob (--output_prob)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_parser, prompt_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = inference_parser(__doc__, class_outputs=True)
    prompt_opts(parser)
    parser.add_argument("--labels_num", type=int, default=None,
                        help="As every classifier's inference takes it; checked against the prompt's answer words.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.inference import predict_test_set, write_class_predictions
    from uer.finetune.prompt import Prompt, read_prompted, answer_logits
    from uer.models.prompt import PromptClassifier

    def read(tokenizer):
        prompt = Prompt(args.prompt_path, args.prompt_id, tokenizer)
        if args.labels_num is not None and args.labels_num != len(prompt.answer_ids):
            from uer.core.errors import UserInputError
            raise UserInputError(f"--labels_num {args.labels_num}, but {prompt.where} has "
                                 f"{len(prompt.answer_ids)} answer words (one per label)")
        args.answer_ids = prompt.answer_ids
        return read_prompted(args.test_path, prompt, tokenizer, args.seq_length, with_labels=False)
    write_class_predictions(args, predict_test_set(args, PromptClassifier, read, answer_logits))


if __name__ == "__main__":
    run_main(main)
