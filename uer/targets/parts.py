"""Targets return their losses as *parts*: {name: {"loss_sum", "correct", "count"}}.

Keeping sums and counts (not means) lets the trainer normalise by the global count across processes, so
data-parallel training computes exactly the loss of one process with the whole batch.
"""
from uer.layers.softmax_loss import softmax_cross_entropy_sum_and_correct


def classification_part(logits, labels, bias=None):
    """The part of logits [n, classes] (plus `bias`, an output layer's bias not yet added) against labels [n]."""
    loss, correct = softmax_cross_entropy_sum_and_correct(logits, labels, bias)
    return {"loss_sum": loss, "correct": correct, "count": labels.new_tensor(labels.numel())}
