"""Targets return their losses as *parts*: {name: {"loss_sum", "correct", "count"}}.

Keeping sums and counts (not means) lets the trainer normalise by the global count across processes, so
data-parallel training computes exactly the loss of one process with the whole batch.
"""
from uer.layers.softmax_loss import softmax_cross_entropy_sum


def classification_part(logits, labels):
    logits = logits.float()
    correct = (logits.argmax(-1) == labels).sum()
    return {"loss_sum": softmax_cross_entropy_sum(logits, labels), "correct": correct,
            "count": labels.new_tensor(labels.numel())}
