import torch
import torch.nn as nn
import torch.nn.functional as F

from uer.targets.parts import classification_part
from uer.core.model_config import model_config


class LmTarget(nn.Module):
    """Next-token language model; the output layer runs only on non-padding positions (tgt > 0, or where
    tgt["lm_mask"] says).

    "lm_hidden_scale" multiplies the hidden states first (T5 v1.0, whose output layer is its embedding, scales by
    hidden_size^-0.5)."""

    def __init__(self, args, vocab_size):
        args = model_config(args)
        super().__init__()
        # UER-py's output layer has a bias; TencentPretrain's has one only with "has_lmtarget_bias": true
        bias = args.has_lmtarget_bias
        self.output_layer = nn.Linear(args.hidden_size, vocab_size, bias=True if bias is None else bias)
        self.scale = args.lm_hidden_scale

    def output_layer_to_tie(self):
        return self.output_layer

    def word_logits(self, hidden):
        """Next-token logits of hidden states [..., hidden_size] (generate.py uses this)."""
        return self.output_layer(hidden * self.scale if self.scale != 1.0 else hidden)

    def sequence_log_probs(self, memory_bank, tgt):
        """{"logps": [batch] sum of log p(label) over each row's masked positions, "tokens": [batch] their
        number} (tgt["score"]: preference training and likelihood evaluation score given continuations)."""
        labels, positions = tgt["lm"], tgt["lm_mask"] > 0
        logits = self.word_logits(memory_bank[positions]).float()
        token_logps = torch.log_softmax(logits, -1).gather(-1, labels[positions][:, None])[:, 0]
        rows = torch.nonzero(positions)[:, 0]
        logps = torch.zeros(labels.size(0), dtype=torch.float32, device=labels.device).index_add(0, rows, token_logps)
        return {"logps": logps, "tokens": positions.sum(1)}

    def forward(self, memory_bank, tgt):
        if tgt.get("score"):
            return self.sequence_log_probs(memory_bank, tgt)
        labels = tgt["lm"]
        # "lm_mask" (the decoder datasets of uer/data/llm_data.py): which positions are predicted, id 0 included
        positions = tgt["lm_mask"] > 0 if "lm_mask" in tgt else labels > 0
        hidden = memory_bank[positions]
        hidden = hidden * self.scale if self.scale != 1.0 else hidden
        # the bias is added by the loss, block by block (no pass of its own over [tokens, vocab])
        logits = F.linear(hidden, self.output_layer.weight)
        return {"lm": classification_part(logits, labels[positions], self.output_layer.bias)}
