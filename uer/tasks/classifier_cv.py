"""The classifier_cv task, run_classifier_cv.py and inference/run_classifier_infer_cv.py: its options, its fine-
tuning and its prediction."""
import argparse
import os

from uer.opts import finetune_opts, inference_opts
from uer.layers.pooling import POOLINGS


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/classifier_model.bin", data_paths=False)
    parser.add_argument("--train_path", required=True, help="Training set, cut into --folds_num folds.")
    parser.add_argument("--folds_num", type=int, default=5)
    parser.add_argument("--train_features_path", required=True,
                        help="Where the out-of-fold probabilities go (.npy, training examples x labels).")
    parser.add_argument("--shuffle_folds", action="store_true",
                        help="Stratified folds shuffled with --seed (default: contiguous folds in file order).")
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sequence vector is formed.")
    parser.set_defaults(dropout=0.5)  # UER-py's cross-validation default (a config's dropout still wins)
    return parser


def fine_tune(args):
    from uer.tasks.classification import read_classification, labels_num_of, classifier_loss, logits_of, \
        classifier_evaluator
    from uer.finetune.cross_validation import cross_validate, save_features
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_classification(args.train_path, tokenizer, args.seq_length)
    labels_num = labels_num_of(args.train_path, train)
    probabilities, scores = cross_validate(args, Classifier, vocab, train, classifier_loss(),
                                           classifier_evaluator, logits_of, labels_num,
                                           f"the labels of {args.train_path}")
    save_features(args.train_features_path, probabilities)
    accuracy, f1 = (sum(s[i] for s in scores) / len(scores) for i in (0, 1))
    print(f"{len(scores)} folds: mean accuracy {accuracy:.4f}, mean macro-F1 {f1:.4f}")


def inference_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser, prediction_file=False)
    parser.add_argument("--folds_num", type=int, default=5, help="Fold models: LOAD_MODEL_PATH with -fold_K.")
    parser.add_argument("--test_features_path", required=True, help="Where the mean probabilities go (.npy).")
    parser.add_argument("--labels_num", type=int, required=True, help="Number of labels of the models.")
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="As in fine-tuning.")
    return parser


def infer(args):
    import numpy as np
    import torch
    from uer.tasks.classification import read_classification, logits_of
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
