"""Targets return their losses as *parts*: {name: {"loss_sum", "correct", "count"}}.

Keeping sums and counts (not means) lets the trainer normalise by the global count across processes, so
data-parallel training computes exactly the loss of one process with the whole batch.
"""
import torch.nn.functional as F


def classification_part(logits, labels):
    logits = logits.float()
    return {"loss_sum": F.cross_entropy(logits, labels, reduction="sum"),
            "correct": (logits.argmax(-1) == labels).sum(),
            "count": labels.new_tensor(labels.numel())}
