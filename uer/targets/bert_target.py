import torch
import torch.nn as nn

from uer.targets.mlm_target import MlmTarget
from uer.targets.parts import classification_part


class BertTarget(MlmTarget):
    """MLM + next sentence prediction on the first ([CLS]) position."""

    sentence_task = "nsp"

    def __init__(self, args, vocab_size):
        super().__init__(args, vocab_size)
        setattr(self, f"{self.sentence_task}_linear_1", nn.Linear(args.hidden_size, args.hidden_size))
        setattr(self, f"{self.sentence_task}_linear_2", nn.Linear(args.hidden_size, 2))

    def sentence_logits(self, memory_bank):
        linear_1 = getattr(self, f"{self.sentence_task}_linear_1")
        linear_2 = getattr(self, f"{self.sentence_task}_linear_2")
        return linear_2(torch.tanh(linear_1(memory_bank[:, 0, :])))

    def forward(self, memory_bank, tgt):
        parts = {"mlm": self.mlm(memory_bank, tgt["mlm"])}
        parts[self.sentence_task] = classification_part(self.sentence_logits(memory_bank), tgt["label"])
        return parts
