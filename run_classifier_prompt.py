#!/usr/bin/env python3
"""Prompt classification: each text (TSV with a header row: label, text_a[, text_b]) is put into a template
of the prompts file, and the label is the answer word the pre-trained MLM head scores highest at [ANS]. Without
--train_path it evaluates the pre-trained model as it is (zero-shot); with it, it fine-tunes the whole model (a
few labelled examples go a long way) on the answer words' cross-entropy."""
import argparse

from uer.opts import finetune_opts, prompt_opts, parse
from uer.core.cli import run_main


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/prompt_classifier_model.bin", data_paths=False)
    parser.add_argument("--train_path", default=None, help="Training set; without it, zero-shot evaluation.")
    parser.add_argument("--dev_path", required=True, help="Development set; the best epoch on it is kept.")
    parser.add_argument("--test_path", default=None, help="Test set, evaluated with the best model.")
    prompt_opts(parser)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.classification import classifier_evaluator
    from uer.finetune.loop import FineTuner
    from uer.finetune.prompt import Prompt, read_prompted, prompt_loss, answer_logits
    from uer.models.prompt import PromptClassifier
    from uer.core.errors import UserInputError
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    prompt = Prompt(args.prompt_path, args.prompt_id, tokenizer)
    args.answer_ids, args.labels_num = prompt.answer_ids, len(prompt.answer_ids)
    train, dev, test = (read_prompted(path, prompt, tokenizer, args.seq_length) if path else None
                        for path in (args.train_path, args.dev_path, args.test_path))
    if train is None and not args.pretrained_model_path:
        raise UserInputError("zero-shot evaluation (no --train_path) needs --pretrained_model_path: a model with "
                             "an MLM head")
    tuner = FineTuner(args, PromptClassifier, vocab, keep_heads=True)
    if tuner.loaded and any(k.startswith("target.mlm") for k in tuner.loaded["missing"]):
        raise UserInputError(f"{args.pretrained_model_path}: no MLM head (target.mlm_* weights), which scores the "
                             "answer words: give a model pre-trained with the mlm, bert or albert target")
    evaluate = classifier_evaluator(args.batch_size, tuner.runtime, args.labels_num, answer_logits)
    if train is None:
        print(f"zero-shot: prompt {args.prompt_id!r}, answer words scored by {args.pretrained_model_path}")
        tuner.assess(evaluate, [("dev", dev), ("test", test)])
    else:
        print(f"{train.describe('training')}, prompt {args.prompt_id!r}, {args.labels_num} labels")
        tuner.run(train, dev, test, prompt_loss, evaluate)


if __name__ == "__main__":
    run_main(main)
