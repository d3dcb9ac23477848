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
    from uer.tasks.classification import read_classification, classifier_loss, fine_tune_classifier
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)

    def read(path, labels_num):  # the training set with the teacher's logits (--soft_targets)
        return read_classification(path, tokenizer, args.seq_length, labels_num,
                                   soft_targets=args.soft_targets and labels_num is None)
    fine_tune_classifier(args, Classifier, vocab, read, classifier_loss(args.soft_targets, args.soft_alpha))


def inference_options(doc):
    return inference_parser(doc, pooling="first", labels_num=True, class_outputs=True)


def infer(args):
    from uer.tasks.classification import read_classification, logits_of
    from uer.finetune.inference import predict_test_set, write_class_predictions
    from uer.models.classifier import Classifier
    write_class_predictions(args, predict_test_set(
        args, Classifier, lambda tokenizer: read_classification(args.test_path, tokenizer, args.seq_length,
                                                                with_labels=False), logits_of))
