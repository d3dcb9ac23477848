"""The classifier_grid task, run_classifier_grid.py (UER-py's): run_classifier.py's fine-tuning for every
combination of --batch_size_list, --learning_rate_list and --epochs_num_list (in that order, as
itertools.product walks them), each from the pre-trained model with the same seed; each is scored by its dev
accuracy after its last epoch (UER-py's figure), the table of all and the best combination are printed, and the
best combination's best epoch is the model saved at --output_model_path."""
import argparse
import os
from itertools import product

from uer.tasks import classifier


def fine_tuning_options(doc):
    """run_classifier.py's options and the grid's lists."""
    parser = classifier.fine_tuning_options(doc)
    parser.add_argument("--batch_size_list", default=[32, 64], nargs="+", type=int,
                        help="Batch sizes of the grid (replace --batch_size).")
    parser.add_argument("--learning_rate_list", default=[3e-5, 1e-4, 3e-4], nargs="+", type=float,
                        help="Learning rates of the grid (replace --learning_rate).")
    parser.add_argument("--epochs_num_list", default=[3, 5, 8], nargs="+", type=int,
                        help="Epoch counts of the grid (replace --epochs_num).")
    return parser


def recorded(evaluate, figures):
    """The evaluator, keeping each evaluation's figures (the last is the last epoch's)."""
    def evaluate_and_keep(model, examples, name):
        out = evaluate(model, examples, name)
        figures.append(out)
        return out
    return evaluate_and_keep


def fine_tune(args):
    from uer.core.errors import UserInputError
    from uer.finetune.loop import FineTuner
    from uer.models.classifier import Classifier
    from uer.tasks.classification import (classifier_evaluator, classifier_loss, labels_num_of,
                                          read_classification, warn_unseen_labels)
    from uer.text.tokenizers import load_vocab_and_tokenizer
    if args.test_path:
        raise UserInputError("run_classifier_grid.py chooses by dev accuracy and has no test set: evaluate the "
                             "chosen combination with run_classifier.py --test_path")
    if args.resume:
        raise UserInputError("run_classifier_grid.py runs many short fine-tunings; --resume applies to one run "
                             "(run_classifier.py)")
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_classification(args.train_path, tokenizer, args.seq_length, soft_targets=args.soft_targets)
    labels_num = labels_num_of(args.train_path, train)
    dev = read_classification(args.dev_path, tokenizer, args.seq_length, labels_num)
    warn_unseen_labels(args.dev_path, dev, args.train_path, train)
    print(f"{len(train)} training examples, {labels_num} labels", flush=True)
    rows, best = [], None
    combinations = list(product(args.batch_size_list, args.learning_rate_list, args.epochs_num_list))
    for k, (batch_size, learning_rate, epochs_num) in enumerate(combinations):
        print(f"combination {k + 1}/{len(combinations)}: batch_size {batch_size}, learning_rate {learning_rate}, "
              f"epochs_num {epochs_num}", flush=True)
        run = argparse.Namespace(**dict(vars(args), batch_size=batch_size, learning_rate=learning_rate,
                                        epochs_num=epochs_num, output_model_path=f"{args.output_model_path}.grid"))
        tuner = FineTuner(run, Classifier, vocab, labels_num=labels_num,
                          labels_source=f"the labels of {args.train_path}")
        figures = []
        best_epoch = tuner.run(train, dev, None, classifier_loss(args.soft_targets, args.soft_alpha),
                               recorded(classifier_evaluator(batch_size, tuner.runtime, labels_num), figures))
        rows.append((batch_size, learning_rate, epochs_num, figures[-1]["acc"], best_epoch))
        if best is None or rows[-1][3] > best[3]:
            best = rows[-1]
            if tuner.runtime.is_master:
                os.replace(run.output_model_path, args.output_model_path)
    if os.path.exists(f"{args.output_model_path}.grid"):
        os.remove(f"{args.output_model_path}.grid")
    print_table(rows, best, args.output_model_path)
    return best[3]


def print_table(rows, best, path):
    print("\n| batch_size | learning_rate | epochs_num | dev acc (last epoch) | dev acc (best epoch) |")
    print("|---|---|---|---|---|")
    for batch_size, learning_rate, epochs_num, last, best_epoch in rows:
        print(f"| {batch_size} | {learning_rate:g} | {epochs_num} | {last:.4f} | {best_epoch:.4f} |")
    print(f"Best Acc. is: {best[3]:.4f}, on configuration {{'learning_rate': {best[1]:g}, 'batch_size': {best[0]}, "
          f"'epochs_num': {best[2]}}}; its best epoch saved at {path}", flush=True)
