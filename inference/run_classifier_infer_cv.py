#!/usr/bin/env python3
"""The test features of cross-validated classifiers (run_classifier_cv.py): the mean of the fold models'
softmax probabilities, examples x labels, saved with numpy.save to --test_features_path."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import inference_opts, parse  # noqa: E402
from uer.layers.pooling import POOLINGS  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser, prediction_file=False)
    parser.add_argument("--folds_num", type=int, default=5, help="Fold models: LOAD_MODEL_PATH with -fold_K.")
    parser.add_argument("--test_features_path", required=True, help="Where the mean probabilities go (.npy).")
    parser.add_argument("--labels_num", type=int, required=True, help="Number of labels of the models.")
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="As in fine-tuning.")
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    import numpy as np
    import torch
    from uer.finetune.classification import read_classification, logits_of
    from uer.finetune.cross_validation import fold_path, save_features
    from uer.finetune.prediction import predict
    from uer.runtime.runtime import place
    from uer.finetune.inference import load_fine_tuned
    from uer.models.classifier import Classifier
    from uer.core.errors import UserInputError
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    examples = read_classification(args.test_path, tokenizer, args.seq_length, with_labels=False)
    paths = [fold_path(args.load_model_path, k) for k in range(args.folds_num)]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise UserInputError(f"{missing[0]}: fold model not found (--load_model_path names the models before "
                             f"-fold_K; --folds_num {args.folds_num})")
    total = np.zeros((len(examples), args.labels_num), dtype=np.float64)
    for path in paths:
        model = Classifier(args, len(vocab), vocab)
        load_fine_tuned(model, args, path)
        model, device = place(model)
        total += torch.softmax(torch.stack(predict(model, examples, args.batch_size, device, logits_of)), -1).numpy()
    save_features(args.test_features_path, (total / len(paths)).astype(np.float32))


if __name__ == "__main__":
    run_main(main)
