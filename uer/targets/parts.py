"""Targets return their losses as *parts*: {name: {"loss_sum", "correct", "count"}}.

Keeping sums and counts (not means) lets the trainer normalise by the global count across processes, so
data-parallel training computes exactly the loss of one process with the whole batch.
"""
from uer.layers.softmax_loss import softmax_cross_entropy_sum


def classification_part(logits, labels):
    # max().indices, not argmax(): the same first maximum, ~6x faster on bf16 logits on CPU
    correct = (logits.max(-1).indices == labels).sum()
    return {"loss_sum": softmax_cross_entropy_sum(logits, labels), "correct": correct,
            "count": labels.new_tensor(labels.numel())}
