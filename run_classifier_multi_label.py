#!/usr/bin/env python3
"""Fine-tune a multi-label classifier (any number of labels per text or pair) on TSV files with a header row:
label (comma-separated label ids, e.g. 0,3,5), text_a[, text_b]. Loss: binary cross-entropy of every label;
reported: micro-F1 (which keeps the best epoch) and macro-F1, labels predicted at probability >= 0.5."""
from uer.opts import pooled_classifier_parser, parse
from uer.core.cli import run_main


def build_parser():
    return pooled_classifier_parser(__doc__, "models/multi_label_classifier_model.bin")


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.finetune.loop import FineTuner
    from uer.finetune.multi_label import read_multi_label, multi_label_loss, multi_label_evaluator
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_multi_label(args.train_path, tokenizer, args.seq_length)
    args.labels_num = train.fields["labels"].shape[1]
    args.labels_source = f"the label ids of {args.train_path}"
    dev = read_multi_label(args.dev_path, tokenizer, args.seq_length, args.labels_num)
    test = read_multi_label(args.test_path, tokenizer, args.seq_length, args.labels_num) if args.test_path else None
    print(f"{len(train)} training examples, {args.labels_num} labels")
    tuner = FineTuner(args, Classifier, vocab)
    tuner.run(train, dev, test, multi_label_loss, multi_label_evaluator(args.batch_size, tuner.runtime))


if __name__ == "__main__":
    run_main(main)
