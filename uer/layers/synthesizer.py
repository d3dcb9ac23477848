"""Dense Synthesizer attention (Tay et al., 2020): attention weights are predicted from each token alone,
B = dense_2(relu(dense_1(x))), one row of max_seq_length scores per head, with no query-key products.

Keys, in the style of the UER attention: `dense_1` [hidden, hidden], `dense_2` [heads * max_seq_length, hidden],
`value` [hidden, hidden] and `final_linear` [hidden, hidden].
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from uer.layers.dropout import dropout


class DenseSynthesizerAttention(nn.Module):
    def __init__(self, hidden_size, heads_num, max_seq_length, dropout_prob):
        super().__init__()
        self.heads_num, self.max_seq_length, self.dropout = heads_num, max_seq_length, dropout_prob
        self.per_head_size = hidden_size // heads_num
        self.dense_1 = nn.Linear(hidden_size, hidden_size)
        self.dense_2 = nn.Linear(hidden_size, heads_num * max_seq_length)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.final_linear = nn.Linear(hidden_size, hidden_size)

    def forward(self, key, value, query, mask=None, is_causal=False, cache=None):
        """mask: bool [batch, 1, 1, seq], True on real tokens (keys); padding keys get no weight. Synthesized
        weights depend on the whole sequence length, so there is no step-by-step decoding (cache)."""
        if cache is not None:
            raise ValueError("the synthesizer encoder cannot decode step by step")
        batch, seq, hidden = query.shape
        if seq > self.max_seq_length:
            raise ValueError(f"sequence of {seq} tokens is longer than the synthesizer's max_seq_length "
                             f"({self.max_seq_length})")
        scores = self.dense_2(F.relu(self.dense_1(query)))
        scores = scores.view(batch, seq, self.heads_num, self.max_seq_length)[..., :seq].transpose(1, 2)
        if is_causal:
            future = torch.ones(seq, seq, dtype=torch.bool, device=query.device).triu(1)
            scores = scores.masked_fill(future, -10000.0)
        if mask is not None:
            scores = scores.masked_fill(~mask, -10000.0)
        probs = dropout(torch.softmax(scores.float(), -1).to(scores.dtype), self.dropout, self.training)
        v = self.value(value).view(batch, seq, self.heads_num, self.per_head_size).transpose(1, 2)
        return self.final_linear((probs @ v).transpose(1, 2).reshape(batch, seq, hidden))
