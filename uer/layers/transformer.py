import torch.nn as nn

from uer.layers.dropout import dropout
from uer.layers.layer_norm import layer_norm_from_args
from uer.layers.multi_headed_attn import attention_from_args
from uer.layers.position_ffn import feed_forward_from_args
from uer.core.model_config import model_config


def pre_layer_norm(args):
    """True for "layernorm_positioning": "pre" (GPT-2 and later models), False for "post" (BERT, UER-py 2020)."""
    args = model_config(args)
    return args.layernorm_positioning == "pre"


class TransformerLayer(nn.Module):
    """Transformer block. Post-LN (BERT, the default): attention, add & norm, feed-forward, add & norm.
    Pre-LN (GPT-2; "layernorm_positioning": "pre"): x + attention(norm(x)), then x + feed-forward(norm(x));
    the encoder then adds a final layer norm. Same keys either way.

    Its parts are chosen by config keys: "layernorm" (normal, rms, t5), "feed_forward" (dense, gated), and the
    attention's keys (see MultiHeadedAttention). `attention` replaces the multi-head attention (the
    synthesizer encoder uses this). A decoder layer (`cross_attention`) has a second attention between the two,
    over the encoder's output: `context_attn` with its norm `layer_norm_2`; the feed-forward's norm is then
    `layer_norm_3` (TencentPretrain's names)."""

    def __init__(self, args, attention=None, cross_attention=False):
        super().__init__()
        self.pre_norm = pre_layer_norm(args)
        self.dropout = args.dropout
        self.self_attn = attention or attention_from_args(args)
        self.layer_norm_1 = layer_norm_from_args(args, args.hidden_size)
        if cross_attention:
            self.context_attn = attention_from_args(args)
        self.feed_forward = feed_forward_from_args(args)
        self.layer_norm_2 = layer_norm_from_args(args, args.hidden_size)
        if cross_attention:
            self.layer_norm_3 = layer_norm_from_args(args, args.hidden_size)

    @property
    def ffn_norm(self):
        return self.layer_norm_3 if hasattr(self, "context_attn") else self.layer_norm_2

    def block(self, attend, hidden, norm):
        """hidden + attend(norm(hidden)) (pre-LN) or norm(hidden + attend(hidden)) (post-LN), with dropout."""
        if self.pre_norm:
            return dropout(attend(norm(hidden)), self.dropout, self.training) + hidden
        return norm(dropout(attend(hidden), self.dropout, self.training) + hidden)

    def forward(self, hidden, mask, is_causal=False, cache=None, rope=None, memory=None, memory_mask=None):
        """memory, memory_mask: the encoder's output and what each decoder position sees of it (decoder layers)."""
        position = {"rope": rope} if rope is not None else {}
        hidden = self.block(lambda x: self.self_attn(x, x, x, mask, is_causal, cache, **position), hidden,
                            self.layer_norm_1)
        if memory is not None:  # the encoder's keys and values are computed once per sequence when decoding
            memory_cache = cache.setdefault("memory", {}) if cache is not None else None
            hidden = self.block(lambda x: self.context_attn(memory, memory, x, memory_mask, cache=memory_cache,
                                                            static=True), hidden, self.layer_norm_2)
        return self.block(self.feed_forward, hidden, self.ffn_norm)
