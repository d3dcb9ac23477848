import torch
import torch.nn as nn

from uer.layers.layer_norm import layer_norm_from_args
from uer.layers.position import position_scheme, str2position
from uer.layers.transformer import TransformerLayer, pre_layer_norm
from uer.core.model_config import model_config


class TransformerEncoder(nn.Module):
    """The stack of transformer layers every transformer family uses (`--encoder transformer`, TencentPretrain's
    name; `bert` and `gpt` are it with a fixed mask). "mask" says what each position sees: fully_visible (BERT:
    every real token, the padding mask derived from `seg > 0`), causal (GPT: itself and the positions before it)
    or causal_with_prefix (prefix LM: the first segment, seg == 1, sees itself fully, the rest causally).

    --factorized_embedding_parameterization adds `linear` (emb_size -> hidden_size);
    --parameter_sharing applies one `transformer` block layers_num times (ALBERT).
    Pre-LN layers ("layernorm_positioning": "pre") are followed by a final `layer_norm`.
    "position" (rotary, alibi, relative; TencentPretrain's "rotary_position_embedding", ... booleans) puts
    positions into the attention: a scheme of str2position (uer/layers/position.py) the stack holds (T5's
    relative bias: one table per stack, `relative_pos_emb`).
    """

    fixed_mask = None  # the mask of `bert`, `gpt` and the decoder; None: the config's "mask" (fully_visible)
    shape_keys = ("hidden_size", "layers_num", "heads_num", "feedforward_size")
    emb_size_is_hidden_size = True
    accepted_flags = ("factorized_embedding_parameterization", "parameter_sharing")
    # what a decoder (uer/decoders/) changes: its layers' name, depth key and cross-attention
    layers_name, depth_key, cross_attention = "transformer", "layers_num", False

    def __init__(self, args):
        args = model_config(args)
        super().__init__()
        self.mask = self.fixed_mask or args.mask or "fully_visible"
        self.causal = self.mask == "causal"
        self.layers_num = getattr(args, self.depth_key)
        self.factorized = args.factorized_embedding_parameterization and not self.cross_attention
        self.parameter_sharing = args.parameter_sharing and not self.cross_attention
        if self.factorized:
            self.linear = nn.Linear(args.emb_size, args.hidden_size)
        if self.parameter_sharing:
            self.transformer = TransformerLayer(args)
        else:
            setattr(self, self.layers_name, nn.ModuleList([TransformerLayer(args, cross_attention=self.cross_attention)
                                                           for _ in range(self.layers_num)]))
        if pre_layer_norm(args):
            self.layer_norm = layer_norm_from_args(args, args.hidden_size)
        scheme = position_scheme(args)
        self.positions_name = str2position[scheme].attribute(self) if scheme else None
        if scheme:
            setattr(self, self.positions_name, str2position[scheme](args, self))

    relative_name = "relative_pos_emb"

    @property
    def positions(self):
        """The position scheme this stack holds, or None."""
        return getattr(self, self.positions_name) if self.positions_name else None

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
        elif not (self.positions is not None and self.positions.adds_bias) and (past == 0 or seq == 1):
            return None, past == 0
        else:  # causal, or a prefix already in the cache: the new positions see every earlier one
            mask = torch.ones(seq, past + seq, dtype=torch.bool, device=device).tril(past)[None, None]
        bias = self.positions.bias(past, seq, device) if self.positions is not None else None
        if bias is not None:
            mask = torch.where(mask, bias, float("-inf"))
        return mask, False

    def document_mask(self, documents, past, cache):
        """[batch, 1, seq, past + seq]: causal, and only within the query's own document (packed rows; left
        padding, whose document 0 the real tokens never see). Every position sees itself, so that padding rows
        stay finite. The documents of cached keys are kept in the first layer's cache."""
        keys = documents
        if cache is not None:
            if past:
                keys = torch.cat([cache[0]["documents"], documents], 1)
            cache[0]["documents"] = keys
        seq, device = documents.size(1), documents.device
        mask = (documents[:, :, None] == keys[:, None, :]) & \
            torch.ones(seq, past + seq, dtype=torch.bool, device=device).tril(past)
        mask = mask[:, None]
        bias = self.positions.bias(past, seq, device) if self.positions is not None else None
        return torch.where(mask, bias, float("-inf")) if bias is not None else mask

    def forward(self, emb, seg, cache=None, memory=None, memory_seg=None, documents=None, positions=None):
        """cache: a list of one dict per layer, kept between calls when decoding step by step (causal only).
        memory, memory_seg: the encoder's output and its segment ids (a decoder's cross-attention).
        documents, positions [batch, seq] (causal stacks): each position's document (0: padding) and its place in
        it, for packed rows and left-padded batches (Body.encode makes them)."""
        hidden = self.linear(emb) if self.factorized else emb
        past = cache[0]["k"].size(2) if cache is not None and "k" in cache[0] else 0
        if documents is None:
            mask, is_causal = self.attention_mask(seg, past)
            rope = self.positions.rotations(past, emb.size(1), emb.device) if self.positions is not None else None
        else:
            mask, is_causal = self.document_mask(documents, past, cache), False
            rope = self.positions.rotations_at(positions) if self.positions is not None else None
        memory_mask = (memory_seg > 0)[:, None, None, :] if memory is not None else None
        for i in range(self.layers_num):
            hidden = self.layer(i)(hidden, mask, is_causal, cache[i] if cache is not None else None, rope,
                                   memory, memory_mask)
        return self.layer_norm(hidden) if hasattr(self, "layer_norm") else hidden
