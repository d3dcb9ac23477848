import torch.nn as nn
import torch.nn.functional as F

from uer.layers.layer_norm import layer_norm_from_args
from uer.layers.position_ffn import ACTIVATIONS
from uer.targets.parts import classification_part
from uer.core.model_config import model_config


class MlmTarget(nn.Module):
    """Masked language model head; computed only at masked positions (tgt > 0). Its activation is
    "mlm_hidden_act": gelu (UER-py 2020's, whatever the encoder's), or in a TencentPretrain-form config the
    config's hidden_act (relu for ALBERT), as there."""

    def __init__(self, args, vocab_size):
        args = model_config(args)
        super().__init__()
        self.act = ACTIVATIONS[args.mlm_hidden_act]
        self.mlm_linear_1 = nn.Linear(args.hidden_size, args.emb_size)
        self.layer_norm = layer_norm_from_args(args, args.emb_size)
        self.mlm_linear_2 = nn.Linear(args.emb_size, vocab_size)

    def output_layer_to_tie(self):
        return self.mlm_linear_2

    def word_logits(self, hidden, words=None):
        """Vocabulary logits of hidden states [..., hidden_size] (the cloze test uses this); words (ids): only
        theirs, in that order (prompt classification's answer words)."""
        hidden = self.layer_norm(self.act(self.mlm_linear_1(hidden)))
        if words is None:
            return self.mlm_linear_2(hidden)
        return F.linear(hidden, self.mlm_linear_2.weight[words], self.mlm_linear_2.bias[words])

    def mlm(self, memory_bank, tgt_mlm):
        positions = tgt_mlm > 0
        return classification_part(self.word_logits(memory_bank[positions]), tgt_mlm[positions])

    def forward(self, memory_bank, tgt):
        return {"mlm": self.mlm(memory_bank, tgt["mlm"])}
