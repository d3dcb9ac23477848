#!/usr/bin/env python3
"""Multiple-choice evaluation of a decoder model (--target lm) by log-likelihood, as lm-evaluation-harness
scores C-Eval/CMMLU-style tasks: a CSV of question, A, B, C, D, answer; each choice a continuation of the
prompt (the letter, or with --choices_as texts the choice's text). Prints acc (highest summed log-probability)
and acc_norm (divided by the continuation's length in characters); --shots k puts the first k questions of
--dev_path, answered, before each prompt."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import probing_opts  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    probing_opts(parser, files=False, seq_length=1024)
    parser.add_argument("--test_path", required=True, help="Questions (CSV: question, A, B, C, D, answer).")
    parser.add_argument("--dev_path", default=None, help="Answered questions for --shots.")
    parser.add_argument("--shots", type=int, default=0, help="Demonstrations before each prompt (0: zero-shot).")
    parser.add_argument("--choices_as", choices=["letters", "texts"], default="letters",
                        help="The continuation scored: the choice's letter (C-Eval) or its text.")
    parser.add_argument("--target", choices=["lm"], default="lm")
    return parser


def main(argv=None):
    from uer.opts import parse
    args = parse(build_parser(), argv)
    from uer.core.constants import CLS_TOKEN
    from uer.core.errors import UserInputError
    from uer.evaluation.choice import evaluate, read_questions
    from uer.model_builder import build_for_probing
    from uer.runtime.runtime import place
    from uer.text.hf_tokenizer import HfTokenizer
    from uer.text.tokenizers import load_vocab_and_tokenizer
    if args.shots and not args.dev_path:
        raise UserInputError("--shots takes its demonstrations from --dev_path")
    questions = read_questions(args.test_path)
    shots = read_questions(args.dev_path)[:args.shots] if args.shots else []
    if len(shots) < args.shots:
        raise UserInputError(f"{args.dev_path}: {len(shots)} questions, fewer than --shots {args.shots}")
    vocab, tokenizer = load_vocab_and_tokenizer(args, padding=False)
    if isinstance(tokenizer, HfTokenizer):
        def encode(text):
            return tokenizer.hf.encode(text, add_special_tokens=False).ids
    else:
        def encode(text):
            return [vocab.get(CLS_TOKEN)] + tokenizer.encode(text)
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path, target="lm"), parallel=False)
    figures = evaluate(model, device, encode, questions, shots, args.choices_as, args.seq_length)
    print(f"acc {figures['acc']:.4f} | acc_norm {figures['acc_norm']:.4f} | {figures['questions']} questions, "
          f"{args.shots}-shot")


if __name__ == "__main__":
    run_main(main)
