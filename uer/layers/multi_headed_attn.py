import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from uer.layers.dropout import dropout


class MultiHeadedAttention(nn.Module):
    """Multi-head attention on PyTorch's fused scaled_dot_product_attention.

    `linear_layers` 0/1/2 are the query/key/value projections and `final_linear` the output projection
    (the UER checkpoint names).
    """

    def __init__(self, hidden_size, heads_num, dropout):
        super().__init__()
        if hidden_size % heads_num:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by heads_num {heads_num}")
        self.heads_num = heads_num
        self.per_head_size = hidden_size // heads_num
        self.dropout = dropout
        self.linear_layers = nn.ModuleList([nn.Linear(hidden_size, hidden_size) for _ in range(3)])
        self.final_linear = nn.Linear(hidden_size, hidden_size)

    def forward(self, key, value, query, mask=None, is_causal=False, cache=None):
        """mask: bool [batch, 1, 1|seq, seq], True where attention is allowed.

        cache (decoding): a dict holding the keys and values of earlier positions; the new ones are appended
        and the queries (the new positions) attend to all of them, causally among themselves."""
        batch, seq, hidden = query.shape

        def heads(x):
            return x.view(batch, -1, self.heads_num, self.per_head_size).transpose(1, 2)

        q, k, v = (heads(layer(x)) for layer, x in zip(self.linear_layers, (query, key, value)))
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
                if seq > 1:  # new positions see every cached one and the new ones up to themselves
                    past = k.size(2) - seq
                    mask = torch.ones(seq, k.size(2), dtype=torch.bool, device=q.device).tril(past)
                is_causal = False
            cache["k"], cache["v"] = k, v
        if self.training and self.dropout > 0 and not q.is_cuda:
            out = attention_with_dropout(q, k, v, mask, is_causal and mask is None, self.dropout)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                 dropout_p=self.dropout if self.training else 0.0,
                                                 is_causal=is_causal and mask is None)
        return self.final_linear(out.transpose(1, 2).reshape(batch, seq, hidden))


def attention_with_dropout(q, k, v, mask, is_causal, p):
    """What scaled_dot_product_attention computes with dropout_p=p, for the CPU, where it falls back to
    unfused operations anyway and draws its dropout mask with the slow bernoulli kernel."""
    scores = (q * (1.0 / math.sqrt(q.size(-1)))) @ k.transpose(-2, -1)
    if is_causal:
        mask = torch.ones(q.size(-2), k.size(-2), dtype=torch.bool, device=q.device).tril()
    if mask is not None:  # added, not filled in: an addition's backward passes the gradient through untouched
        scores.add_(torch.zeros(mask.shape, dtype=scores.dtype, device=mask.device)
                    .masked_fill_(~mask, torch.finfo(scores.dtype).min))
    probs = torch.softmax(scores.float(), -1).to(scores.dtype)  # in fp32 under bf16 autocast too
    return dropout(probs, p, True) @ v
