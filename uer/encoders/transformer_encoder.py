import torch
import torch.nn as nn

from uer.layers.layer_norm import layer_norm_from_args
from uer.layers.position import RelativePositionBias, RotaryEmbedding, alibi_bias, alibi_slopes
from uer.layers.transformer import TransformerLayer, pre_layer_norm


class TransformerEncoder(nn.Module):
    """The stack of transformer layers every transformer family uses (`--encoder transformer`, TencentPretrain's
    name; `bert` and `gpt` are it with a fixed mask). "mask" says what each position sees: fully_visible (BERT:
    every real token, the padding mask derived from `seg > 0`), causal (GPT: itself and the positions before it)
    or causal_with_prefix (prefix LM: the first segment, seg == 1, sees itself fully, the rest causally).

    --factorized_embedding_parameterization adds `linear` (emb_size -> hidden_size);
    --parameter_sharing applies one `transformer` block layers_num times (ALBERT).
    Pre-LN layers ("layernorm_positioning": "pre") are followed by a final `layer_norm`.
    "rotary_position_embedding", "alibi_position_embedding" and "relative_position_embedding" (T5: one bias
    table per stack, `relative_pos_emb`) put positions into the attention.
    """

    fixed_mask = None  # the mask of `bert`, `gpt` and the decoder; None: the config's "mask" (fully_visible)
    shape_keys = ("hidden_size", "layers_num", "heads_num", "feedforward_size")
    emb_size_is_hidden_size = True
    accepted_flags = ("factorized_embedding_parameterization", "parameter_sharing")
    # what a decoder (uer/decoders/) changes: its layers' name, depth key and cross-attention
    layers_name, depth_key, cross_attention = "transformer", "layers_num", False

    def __init__(self, args):
        super().__init__()
        self.mask = self.fixed_mask or getattr(args, "mask", None) or "fully_visible"
        self.causal = self.mask == "causal"
        self.layers_num = getattr(args, self.depth_key)
        self.factorized = getattr(args, "factorized_embedding_parameterization", False) and not self.cross_attention
        self.parameter_sharing = getattr(args, "parameter_sharing", False) and not self.cross_attention
        if self.factorized:
            self.linear = nn.Linear(args.emb_size, args.hidden_size)
        if self.parameter_sharing:
            self.transformer = TransformerLayer(args)
        else:
            setattr(self, self.layers_name, nn.ModuleList([TransformerLayer(args, cross_attention=self.cross_attention)
                                                           for _ in range(self.layers_num)]))
        if pre_layer_norm(args):
            self.layer_norm = layer_norm_from_args(args, args.hidden_size)
        head_size = getattr(args, "attention_head_size", None) or args.hidden_size // args.heads_num
        self.rotary = RotaryEmbedding(head_size, getattr(args, "rope_theta", 10000.0),
                                      getattr(args, "rope_scaling", None)) \
            if getattr(args, "rotary_position_embedding", False) else None
        self.alibi = getattr(args, "alibi_position_embedding", False)
        if self.alibi:
            self.register_buffer("slopes", alibi_slopes(args.heads_num), persistent=False)
        if getattr(args, "relative_position_embedding", False):
            setattr(self, self.relative_name, RelativePositionBias(
                args.heads_num, getattr(args, "relative_attention_buckets_num", 32), bidirectional=not self.causal))

    relative_name = "relative_pos_emb"

    @property
    def relative(self):
        return getattr(self, self.relative_name, None)

    def position_bias(self, past, seq, device):
        """[1, heads, seq, past + seq] added to the scores (ALiBi, T5's relative positions), or None."""
        if self.alibi:
            return alibi_bias(self.slopes, past, seq, past + seq, device)[None]
        if self.relative is not None:
            return self.relative(past, seq, past + seq, device)
        return None

    def layer(self, i):
        return self.transformer if self.parameter_sharing else getattr(self, self.layers_name)[i]

    def attention_mask(self, seg, past):
        """(mask, is_causal) for the queries past .. past + seq - 1 over keys 0 .. past + seq - 1. Padding sits at
        the end of each sequence, so under a causal mask real tokens never see it."""
        seq, device = seg.size(1), seg.device
        keys = (seg > 0)[:, None, None, :]
        if self.mask == "fully_visible":
            mask = keys
        elif self.mask == "causal_with_prefix" and past == 0:
            mask = (torch.ones(seq, seq, dtype=torch.bool, device=device).tril() | (seg == 1)[:, None, None, :]) & keys
        elif not (self.alibi or self.relative) and (past == 0 or seq == 1):
            return None, past == 0
        else:  # causal, or a prefix already in the cache: the new positions see every earlier one
            mask = torch.ones(seq, past + seq, dtype=torch.bool, device=device).tril(past)[None, None]
        bias = self.position_bias(past, seq, device)
        if bias is not None:
            mask = torch.where(mask, bias, float("-inf"))
        return mask, False

    def forward(self, emb, seg, cache=None, memory=None, memory_seg=None):
        """cache: a list of one dict per layer, kept between calls when decoding step by step (causal only).
        memory, memory_seg: the encoder's output and its segment ids (a decoder's cross-attention)."""
        hidden = self.linear(emb) if self.factorized else emb
        past = cache[0]["k"].size(2) if cache is not None and "k" in cache[0] else 0
        mask, is_causal = self.attention_mask(seg, past)
        rope = self.rotary(past, emb.size(1), emb.device) if self.rotary is not None else None
        memory_mask = (memory_seg > 0)[:, None, None, :] if memory is not None else None
        for i in range(self.layers_num):
            hidden = self.layer(i)(hidden, mask, is_causal, cache[i] if cache is not None else None, rope,
                                   memory, memory_mask)
        return self.layer_norm(hidden) if hasattr(self, "layer_norm") else hidden
