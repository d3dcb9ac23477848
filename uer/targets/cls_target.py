import torch
import torch.nn as nn

from uer.layers.pooling import pool
from uer.targets.parts import classification_part


class ClsTarget(nn.Module):
    """Sentence classification: pooled vector -> tanh(linear_1) -> linear_2 -> labels_num."""

    def __init__(self, args, vocab_size):
        super().__init__()
        self.pooling = getattr(args, "pooling", "first")
        self.linear_1 = nn.Linear(args.hidden_size, args.hidden_size)
        self.linear_2 = nn.Linear(args.hidden_size, args.labels_num)

    def forward(self, memory_bank, tgt):
        pooled = pool(memory_bank, tgt["seg"], self.pooling)
        return {"cls": classification_part(self.linear_2(torch.tanh(self.linear_1(pooled))), tgt["label"])}
