"""The classifier task, run_classifier.py and inference/run_classifier_infer.py: its options, its fine-tuning and its
prediction."""
import argparse

from uer.opts import finetune_opts, inference_parser
from uer.layers.pooling import POOLINGS


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/classifier_model.bin")
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sequence vector is formed.")
    parser.add_argument("--soft_targets", action="store_true", help="Also learn the teacher's logits (MSE).")
    parser.add_argument("--soft_alpha", type=float, default=0.5, help="Weight of the soft-target loss.")
    return parser


def fine_tune(args):
    from uer.tasks.classification import (read_classification, labels_num_of, warn_unseen_labels,
                                             classifier_loss, classifier_evaluator)
    from uer.finetune.loop import FineTuner
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_classification(args.train_path, tokenizer, args.seq_length, soft_targets=args.soft_targets)
    args.labels_num = labels_num_of(args.train_path, train)
    dev = read_classification(args.dev_path, tokenizer, args.seq_length, args.labels_num)
    test = read_classification(args.test_path, tokenizer, args.seq_length, args.labels_num) if args.test_path \
        else None
    for path, examples in ((args.dev_path, dev), (args.test_path, test)):
        if examples is not None:
            warn_unseen_labels(path, examples, args.train_path, train)
    args.labels_source = f"the labels of {args.train_path}"
    print(f"{len(train)} training examples, {args.labels_num} labels")
    tuner = FineTuner(args, Classifier, vocab)
    tuner.run(train, dev, test, classifier_loss(args.soft_targets, args.soft_alpha),
              classifier_evaluator(args.batch_size, tuner.runtime, args.labels_num))


def inference_options(doc):
    return inference_parser(doc, pooling="first", labels_num=True, class_outputs=True)


def infer(args):
    from uer.tasks.classification import read_classification, logits_of
    from uer.finetune.inference import predict_test_set, write_class_predictions
    from uer.models.classifier import Classifier
    write_class_predictions(args, predict_test_set(
        args, Classifier, lambda tokenizer: read_classification(args.test_path, tokenizer, args.seq_length,
                                                                with_labels=False), logits_of))
