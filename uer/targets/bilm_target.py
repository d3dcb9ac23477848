import torch.nn as nn

from uer.targets.parts import classification_part
from uer.core.model_config import model_config


class BilmTarget(nn.Module):
    """ELMo's bidirectional language model: the first half of each hidden state predicts the next token, the
    second half the previous one, through one shared `output_layer` (hidden_size / 2 -> vocab), with a bias
    unless "has_lmtarget_bias": false (TencentPretrain's bilstm config)."""

    def __init__(self, args, vocab_size):
        args = model_config(args)
        super().__init__()
        self.half = args.hidden_size // 2
        bias = args.has_lmtarget_bias
        self.output_layer = nn.Linear(self.half, vocab_size, bias=True if bias is None else bias)

    def output_layer_to_tie(self):
        return self.output_layer

    def direction(self, states, labels):
        positions = labels > 0
        return classification_part(self.output_layer(states[positions]), labels[positions])

    def forward(self, memory_bank, tgt):
        return {"forward": self.direction(memory_bank[..., :self.half], tgt["forward"]),
                "backward": self.direction(memory_bank[..., self.half:], tgt["backward"])}
