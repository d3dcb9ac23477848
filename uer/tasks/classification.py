"""Reading classification TSVs (label, text_a, optional text_b, optional logits) and the classifier's loss and
metric, shared by run_classifier.py, run_mt_classifier.py and the classifier inference."""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from uer.finetune.data import read_tsv, parse_labels, encode_pairs, Examples
from uer.finetune.metrics import classification_report, ranking_scores
from uer.finetune.prediction import predict
from uer.core.errors import UserInputError


def read_classification(path, tokenizer, seq_length, labels_num=None, with_labels=True, soft_targets=False,
                        extra=()):
    """Examples with fields "label" (and "logits" for soft targets, and the `extra` columns as strings)."""
    required = (["label"] if with_labels else []) + ["text_a"] + (["logits"] if soft_targets else []) + list(extra)
    columns = read_tsv(path, required, optional=["text_b"])
    sequences, a_lens = encode_pairs(tokenizer, columns["text_a"], columns.get("text_b"), seq_length)
    fields = {}
    if soft_targets:
        fields["logits"] = parse_logits(path, columns["logits"], columns["line"])
        labels_num = fields["logits"].shape[1]  # a label must name one of the teacher's outputs
    if with_labels:
        fields["label"] = parse_labels(path, columns["label"], columns["line"], labels_num)
    for name in extra:
        fields[name] = np.asarray(columns[name])
    return Examples(sequences, a_lens, fields)


def parse_logits(path, values, lines):
    rows = []
    for v, no in zip(values, lines):
        try:
            rows.append([float(x) for x in v.split()])
        except ValueError:
            raise UserInputError(f"{path}:{no}: logits {v!r} are not space-separated numbers") from None
        if len(rows[-1]) != len(rows[0]):
            raise UserInputError(f"{path}:{no}: {len(rows[-1])} logits, but the first row has {len(rows[0])}")
    return np.asarray(rows, dtype=np.float32)


def labels_num_of(path, examples):
    """Number of classes: the width of the teacher's logits with soft targets (a teacher may predict one class
    for every line), else the largest label + 1. Warns in one line about labels below it that no example has."""
    labels = examples.fields["label"]
    if "logits" in examples.fields:
        n = examples.fields["logits"].shape[1]
        if n < 2:
            raise UserInputError(f"{path}: the logits column has {n} number(s) per row; classification needs at "
                                 "least two labels")
        return n
    n = int(labels.max()) + 1
    if n < 2:
        raise UserInputError(f"{path}: every label is 0; classification needs at least two labels")
    unseen = sorted(set(range(n)) - set(labels.tolist()))
    if unseen == [0]:
        print(f"warning: {path}: no example has label 0 (labels are 1..{n - 1}): training {n} classes, one never "
              "seen; labels count from 0", file=sys.stderr)
    elif unseen:
        print(f"warning: {path}: label(s) {_listed(unseen)} below the largest ({n - 1}) have no example: training "
              f"{n} classes", file=sys.stderr)
    return n


def warn_unseen_labels(path, examples, train_path, train):
    """One line naming the labels of `path` (dev, test) that no training example has."""
    unseen = sorted(set(examples.fields["label"].tolist()) - set(train.fields["label"].tolist()))
    if unseen:
        print(f"warning: {path}: label(s) {_listed(unseen)} appear here but in no example of {train_path}",
              file=sys.stderr)


def _listed(values, limit=10):
    more = f" ... ({len(values)} in all)" if len(values) > limit else ""
    return ", ".join(map(str, values[:limit])) + more


def forward(model, examples, indices, src, seg):
    """Logits of a batch; multi-task examples (field "task", one task per batch) go through their task's head."""
    if "task" in examples.fields:
        return model(src, seg, int(examples.fields["task"][indices[0]]))
    return model(src, seg)


def classifier_loss(soft_targets=False, soft_alpha=0.5):
    """Cross-entropy on the labels; with soft targets, soft_alpha * MSE(logits, teacher logits) + (1 - soft_alpha)
    * cross-entropy, as UER-py's distillation."""
    def loss_of(model, examples, indices, src, seg):
        logits = forward(model, examples, indices, src, seg).float()
        hard = F.cross_entropy(logits, examples.field("label", indices, logits.device))
        if not soft_targets:
            return hard
        soft = F.mse_loss(logits, examples.field("logits", indices, logits.device))
        return soft_alpha * soft + (1 - soft_alpha) * hard
    return loss_of


def logits_of(model, examples, indices, src, seg):
    return forward(model, examples, indices, src, seg).float().cpu()


def classifier_evaluator(batch_size, runtime, labels_num, outputs=logits_of):
    """Accuracy and the per-label report of the logits `outputs` gives (logits_of: the model's own)."""
    def evaluate(model, examples, name):
        logits = torch.stack(predict(model, examples, batch_size, runtime, outputs))
        accuracy, report = classification_report(logits.argmax(-1).numpy(), examples.fields["label"], labels_num)
        print(f"{name}:\n{report}", flush=True)
        return {"acc": accuracy}
    return evaluate


def multitask_evaluator(batch_size, runtime, labels_num_list, names):
    """Evaluates a list of dev sets, one per task; the score is their mean accuracy."""
    single = [classifier_evaluator(batch_size, runtime, n) for n in labels_num_list]

    def evaluate(model, task_sets, name):
        scores = [ev(model, examples, f"{name} {task}")["acc"]
                  for ev, examples, task in zip(single, task_sets, names)]
        mean = sum(scores) / len(scores)
        print(f"{name}: mean accuracy over {len(scores)} tasks {mean:.4f}", flush=True)
        return {"acc": mean, **{f"acc_{os.path.basename(os.path.normpath(task))}": s
                                for task, s in zip(names, scores)}}
    return evaluate


def ranking_evaluator(batch_size, runtime):
    """DBQA: candidates grouped by the "qid" field, ranked by the probability of label 1; score = MAP (the
    first of the returned figures, as for every evaluator: that is the one the best epoch is chosen by)."""
    def evaluate(model, examples, name):
        logits = torch.stack(predict(model, examples, batch_size, runtime, logits_of))
        scores = torch.softmax(logits, -1)[:, 1].numpy()
        mrr, map_score, used = ranking_scores(examples.fields["qid"], scores, examples.fields["label"] == 1)
        accuracy = float((logits.argmax(-1).numpy() == examples.fields["label"]).mean())
        print(f"{name}: MRR {mrr:.4f} MAP {map_score:.4f} ({used} questions with an answer), "
              f"accuracy {accuracy:.4f}", flush=True)
        return {"map": map_score, "mrr": mrr, "acc": accuracy}
    return evaluate



def fine_tune_classifier(args, model_class, vocab, read, loss_of, unit="examples"):
    """A classifier's fine-tuning: read(path, labels_num) the training set first (its labels give labels_num:
    labels_num None), then dev and test against them (labels the training set lacks are warned about); the model
    gets labels_num; dev picks the best epoch by accuracy."""
    from uer.finetune.loop import FineTuner
    train = read(args.train_path, None)
    labels_num = labels_num_of(args.train_path, train)
    dev, test = (read(path, labels_num) if path else None for path in (args.dev_path, args.test_path))
    for path, examples in ((args.dev_path, dev), (args.test_path, test)):
        if examples is not None:
            warn_unseen_labels(path, examples, args.train_path, train)
    print(f"{len(train)} training {unit}, {labels_num} labels")
    tuner = FineTuner(args, model_class, vocab, labels_num=labels_num,
                      labels_source=f"the labels of {args.train_path}")
    return tuner.run(train, dev, test, loss_of, classifier_evaluator(args.batch_size, tuner.runtime, labels_num))
