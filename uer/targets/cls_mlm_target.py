import torch

from uer.layers.pooling import pool
from uer.targets.cls_target import ClsTarget
from uer.targets.mlm_target import MlmTarget
from uer.targets.parts import classification_part


class ClsMlmTarget(MlmTarget):
    """TencentPretrain's ["mlm", "cls"] pair (its cls_mlm data processor): the masked LM of each labelled text and
    the classification of its pooled vector, their losses added. Keys: the MLM head's (mlm_linear_1, layer_norm,
    mlm_linear_2) and the classifier's (linear_1, linear_2), as each target alone names them."""

    def __init__(self, args, vocab_size):
        super().__init__(args, vocab_size)
        classifier = ClsTarget(args, vocab_size)
        self.pooling, self.linear_1, self.linear_2 = classifier.pooling, classifier.linear_1, classifier.linear_2

    def forward(self, memory_bank, tgt):
        pooled = pool(memory_bank, tgt["seg"], self.pooling)
        return {"mlm": self.mlm(memory_bank, tgt["mlm"]),
                "cls": classification_part(self.linear_2(torch.tanh(self.linear_1(pooled))), tgt["label"])}
