"""run_classifier_multi_label.py: any number of labels per text or pair: its TSVs (comma-separated label ids),
loss (binary cross-entropy of every label) and metrics (micro- and macro-F1 at probability 0.5). The model is
the classifier's (uer/models/classifier.py) with one output per label."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

from uer.tasks.classification import logits_of
from uer.finetune.data import read_tsv, encode_pairs, Examples
from uer.finetune.prediction import predict
from uer.finetune.metrics import multi_label_f1
from uer.core.errors import UserInputError

THRESHOLD = 0.5  # a label is predicted where its probability is at least this


def read_multi_label(path, tokenizer, seq_length, labels_num=None, with_labels=True):
    """Examples with the field "labels", a 0/1 row of labels_num per example (column label: comma-separated
    ids, e.g. 0,3,5; empty: none); labels_num None: the largest id + 1."""
    columns = read_tsv(path, (["label"] if with_labels else []) + ["text_a"], optional=["text_b"])
    sequences, a_lens = encode_pairs(tokenizer, columns["text_a"], columns.get("text_b"), seq_length)
    if not with_labels:
        return Examples(sequences, a_lens)
    ids = [label_ids(path, v, no) for v, no in zip(columns["label"], columns["line"])]
    largest = max((max(row) for row in ids if row), default=-1)
    if labels_num is None:
        labels_num = largest + 1
        if labels_num < 1:
            raise UserInputError(f"{path}: no example has a label")
        unseen = sorted(set(range(labels_num)) - {i for row in ids for i in row})
        if unseen:
            print(f"warning: {path}: label id(s) {', '.join(map(str, unseen[:10]))} below the largest "
                  f"({largest}) have no example: training {labels_num} labels", file=sys.stderr)
    for row, no in zip(ids, columns["line"]):
        if any(i >= labels_num for i in row):
            raise UserInputError(f"{path}:{no}: label id {max(row)} is outside 0..{labels_num - 1} (the training "
                                 "set's labels)")
    hot = np.zeros((len(ids), labels_num), dtype=np.float32)
    for k, row in enumerate(ids):
        hot[k, row] = 1.0
    return Examples(sequences, a_lens, {"labels": hot})


def label_ids(path, value, no):
    try:
        ids = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise UserInputError(f"{path}:{no}: label {value!r} is not comma-separated integer ids (e.g. 0,3,5)") \
            from None
    if any(i < 0 for i in ids):
        raise UserInputError(f"{path}:{no}: label {value!r} has a negative id")
    return ids


def multi_label_loss(model, examples, indices, src, seg):
    """Binary cross-entropy of every label, averaged over the batch's examples and labels."""
    logits = model(src, seg).float()
    return F.binary_cross_entropy_with_logits(logits, examples.field("labels", indices, logits.device))


def multi_label_evaluator(batch_size, runtime):
    def evaluate(model, examples, name):
        logits = torch.stack(predict(model, examples, batch_size, runtime, logits_of))
        predicted = (torch.sigmoid(logits) >= THRESHOLD).numpy().astype(np.float32)
        gold = examples.fields["labels"]
        micro, macro = multi_label_f1(predicted, gold)
        exact = float((predicted == gold).all(1).mean())
        print(f"{name}: micro-F1 {micro:.4f} macro-F1 {macro:.4f} (labels at probability >= {THRESHOLD}), "
              f"all labels right {exact:.4f}", flush=True)
        return {"micro_f1": micro, "macro_f1": macro, "exact": exact}
    return evaluate
