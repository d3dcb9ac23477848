"""The mt_classifier task, run_mt_classifier.py: its options, its fine-tuning and its prediction."""
import argparse
import os

from uer.opts import finetune_opts
from uer.layers.pooling import POOLINGS


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/multitask_classifier_model.bin", batch_size=32,
                  data_paths=False)
    parser.add_argument("--dataset_path_list", required=True, nargs="+", help="One folder per task.")
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sequence vector is formed.")
    return parser


def fine_tune(args):
    import numpy as np
    from uer.tasks.classification import (read_classification, labels_num_of, warn_unseen_labels,
                                             classifier_loss, multitask_evaluator)
    from uer.finetune.data import Examples
    from uer.finetune.loop import FineTuner
    from uer.models.classifier import MultiTaskClassifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    trains, devs, labels_num_list = [], [], []
    for task, folder in enumerate(args.dataset_path_list):
        train_path, dev_path = os.path.join(folder, "train.tsv"), os.path.join(folder, "dev.tsv")
        train = read_classification(train_path, tokenizer, args.seq_length)
        labels_num_list.append(labels_num_of(train_path, train))
        dev = read_classification(dev_path, tokenizer, args.seq_length, labels_num_list[-1])
        warn_unseen_labels(dev_path, dev, train_path, train)
        for examples in (train, dev):
            examples.fields["task"] = np.full(len(examples), task)
        trains.append(train)
        devs.append(dev)
    print(f"{len(trains)} tasks, {sum(len(t) for t in trains)} training examples, labels {labels_num_list}")
    tuner = FineTuner(args, MultiTaskClassifier, vocab, labels_num_list=labels_num_list)
    tuner.run(Examples.concatenate(trains), devs, None, classifier_loss(),
              multitask_evaluator(args.batch_size, tuner.runtime, labels_num_list, args.dataset_path_list))
