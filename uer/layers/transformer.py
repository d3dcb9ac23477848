import torch.nn as nn

from uer.layers.dropout import dropout
from uer.layers.layer_norm import layer_norm_from_args
from uer.layers.multi_headed_attn import attention_from_args
from uer.layers.position_ffn import feed_forward_from_args


def pre_layer_norm(args):
    """True for "layernorm_positioning": "pre" (GPT-2 and later models), False for "post" (BERT, UER-py 2020)."""
    return getattr(args, "layernorm_positioning", "post") == "pre"


class TransformerLayer(nn.Module):
    """Transformer block. Post-LN (BERT, the default): attention, add & norm, feed-forward, add & norm.
    Pre-LN (GPT-2; "layernorm_positioning": "pre"): x + attention(norm(x)), then x + feed-forward(norm(x));
    the encoder then adds a final layer norm. Same keys either way.

    Its parts are chosen by config keys: "layernorm" (normal, rms, t5), "feed_forward" (dense, gated), and the
    attention's keys (see MultiHeadedAttention). `attention` replaces the multi-head attention (the
    synthesizer encoder uses this)."""

    def __init__(self, args, attention=None):
        super().__init__()
        self.pre_norm = pre_layer_norm(args)
        self.dropout = args.dropout
        self.self_attn = attention or attention_from_args(args)
        self.layer_norm_1 = layer_norm_from_args(args, args.hidden_size)
        self.feed_forward = feed_forward_from_args(args)
        self.layer_norm_2 = layer_norm_from_args(args, args.hidden_size)

    def forward(self, hidden, mask, is_causal=False, cache=None, rope=None):
        position = {"rope": rope} if rope is not None else {}
        if self.pre_norm:
            normed = self.layer_norm_1(hidden)
            attn = self.self_attn(normed, normed, normed, mask, is_causal, cache, **position)
            inter = dropout(attn, self.dropout, self.training) + hidden
            return dropout(self.feed_forward(self.layer_norm_2(inter)), self.dropout, self.training) + inter
        attn = self.self_attn(hidden, hidden, hidden, mask, is_causal, cache, **position)
        inter = self.layer_norm_1(dropout(attn, self.dropout, self.training) + hidden)
        out = dropout(self.feed_forward(inter), self.dropout, self.training)
        return self.layer_norm_2(out + inter)
