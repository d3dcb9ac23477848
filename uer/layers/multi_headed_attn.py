import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from uer.layers.dropout import dropout
from uer.layers.layer_norm import RMSNorm
from uer.layers.position import apply_rotary
from uer.core.model_config import model_config


class MultiHeadedAttention(nn.Module):
    """Multi-head attention on PyTorch's fused scaled_dot_product_attention.

    `linear_layers` 0/1/2 are the query/key/value projections and `final_linear` the output projection
    (the UER checkpoint names). The config keys that change it: "attention_head_size" (heads x head size need
    not be the hidden size), "local_kv_heads_num" (grouped-query attention: fewer key/value heads, each serving
    heads_num / local_kv_heads_num query heads), "remove_transformer_bias" (no biases), "attention_qkv_bias"
    (biases on the query/key/value projections only, Qwen2), "remove_attention_scale" (scores not divided by
    sqrt(head size), T5), "qk_norm" (Qwen3: each head's query and key RMS-normalised, `query_norm` and
    `key_norm` over the head size, before the rotary positions).
    """

    def __init__(self, hidden_size, heads_num, dropout, head_size=None, kv_heads_num=None, bias=True,
                 qkv_bias=None, scale=True, qk_norm=None):
        super().__init__()
        if head_size is None and hidden_size % heads_num:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by heads_num {heads_num}")
        self.heads_num = heads_num
        self.kv_heads_num = kv_heads_num or heads_num
        if heads_num % self.kv_heads_num:
            raise ValueError(f"local_kv_heads_num {self.kv_heads_num} does not divide heads_num {heads_num}")
        self.per_head_size = head_size or hidden_size // heads_num
        self.scale = None if scale else 1.0
        self.dropout = dropout
        inner, kv_inner = heads_num * self.per_head_size, self.kv_heads_num * self.per_head_size
        qkv_bias = bias if qkv_bias is None else qkv_bias
        self.linear_layers = nn.ModuleList([nn.Linear(hidden_size, size, bias=qkv_bias)
                                            for size in (inner, kv_inner, kv_inner)])
        self.final_linear = nn.Linear(inner, hidden_size, bias=bias)
        if qk_norm is not None:  # the norm's eps
            self.query_norm, self.key_norm = RMSNorm(self.per_head_size, qk_norm), RMSNorm(self.per_head_size, qk_norm)

    def forward(self, key, value, query, mask=None, is_causal=False, cache=None, rope=None, static=False):
        """mask: bool [batch|1, 1, 1|seq, keys], True where attention is allowed, or float (added to the scores:
        ALiBi), or None; is_causal: a causal mask over keys = queries (used only when mask is None).

        cache (decoding): a dict holding the keys and values of earlier positions; the new ones are appended.
        The caller's mask then covers every cached key. rope: (cos, sin) of the new positions. static: the keys
        and values are the same at every step (cross-attention to the encoder's output): computed once, kept."""
        batch, seq, _ = query.shape

        def heads(x, n):
            return x.view(batch, -1, n, self.per_head_size).transpose(1, 2)

        q = heads(self.linear_layers[0](query), self.heads_num)
        normed = hasattr(self, "query_norm")
        q = self.query_norm(q) if normed else q
        if static and cache is not None and "k" in cache:
            k, v = cache["k"], cache["v"]
        else:
            k = heads(self.linear_layers[1](key), self.kv_heads_num)
            v = heads(self.linear_layers[2](value), self.kv_heads_num)
            k = self.key_norm(k) if normed else k
            if rope is not None:
                q, k = apply_rotary(q, *rope), apply_rotary(k, *rope)
            if cache is not None:
                if "k" in cache and not static:
                    k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
                cache["k"], cache["v"] = k, v
        causal = is_causal and mask is None
        if self.training and self.dropout > 0 and not q.is_cuda:
            out = attention_with_dropout(q, k, v, mask, causal, self.dropout, self.scale)
        else:
            grouped = {"enable_gqa": True} if self.kv_heads_num != self.heads_num else {}
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                 dropout_p=self.dropout if self.training else 0.0,
                                                 is_causal=causal, scale=self.scale, **grouped)
        return self.final_linear(out.transpose(1, 2).reshape(batch, seq, -1))


def attention_with_dropout(q, k, v, mask, is_causal, p, scale=None):
    """What scaled_dot_product_attention computes with dropout_p=p, for the CPU, where it falls back to
    unfused operations anyway and draws its dropout mask with the slow bernoulli kernel. Grouped-query
    attention broadcasts each key/value head over its group of query heads (no copy)."""
    groups = q.size(1) // k.size(1)
    if groups > 1:
        q, k, v = q.unflatten(1, (k.size(1), groups)), k.unsqueeze(2), v.unsqueeze(2)
        if mask is not None:
            mask = mask.unflatten(1, (k.size(1), groups)) if mask.size(1) > 1 else mask.unsqueeze(1)
    scale = 1.0 / math.sqrt(q.size(-1)) if scale is None else scale
    scores = (q * scale) @ k.transpose(-2, -1)
    if is_causal:
        mask = torch.ones(q.size(-2), k.size(-2), dtype=torch.bool, device=q.device).tril()
    if mask is not None and mask.dtype == torch.bool:  # added, not filled in: the backward passes through
        scores.add_(torch.zeros(mask.shape, dtype=scores.dtype, device=mask.device)
                    .masked_fill_(~mask, torch.finfo(scores.dtype).min))
    elif mask is not None:
        scores = scores + mask.to(scores.dtype)
    probs = torch.softmax(scores.float(), -1).to(scores.dtype)  # in fp32 under bf16 autocast too
    out = dropout(probs, p, True) @ v
    return out.flatten(1, 2) if groups > 1 else out


def attention_from_args(args):
    args = model_config(args)
    return MultiHeadedAttention(args.hidden_size, args.heads_num, args.dropout,
                                head_size=args.attention_head_size,
                                kv_heads_num=args.local_kv_heads_num,
                                bias=not args.remove_transformer_bias,
                                qkv_bias=args.attention_qkv_bias,
                                scale=not args.remove_attention_scale,
                                qk_norm=args.layer_norm_eps if args.qk_norm else None)
