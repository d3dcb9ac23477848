import torch.nn as nn

from uer.targets.parts import classification_part


class LmTarget(nn.Module):
    """Next-token language model; the output layer runs only on non-padding positions (tgt > 0)."""

    def __init__(self, args, vocab_size):
        super().__init__()
        # UER-py's output layer has a bias; TencentPretrain's has one only with "has_lmtarget_bias": true
        bias = getattr(args, "has_lmtarget_bias", None)
        self.output_layer = nn.Linear(args.hidden_size, vocab_size, bias=True if bias is None else bias)

    def output_layer_to_tie(self):
        return self.output_layer

    def word_logits(self, hidden):
        """Next-token logits of hidden states [..., hidden_size] (generate.py uses this)."""
        return self.output_layer(hidden)

    def forward(self, memory_bank, tgt):
        labels = tgt["lm"]
        positions = labels > 0
        return {"lm": classification_part(self.output_layer(memory_bank[positions]), labels[positions])}
