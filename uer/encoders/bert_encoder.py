import torch.nn as nn

from uer.layers.layer_norm import layer_norm_from_args
from uer.layers.transformer import TransformerLayer, pre_layer_norm


class BertEncoder(nn.Module):
    """Stack of transformer layers over a padding mask derived from `seg > 0`.

    --factorized_embedding_parameterization adds `linear` (emb_size -> hidden_size);
    --parameter_sharing applies one `transformer` block layers_num times (ALBERT).
    Pre-LN layers ("layernorm_positioning": "pre") are followed by a final `layer_norm`.
    """

    causal = False
    shape_keys = ("hidden_size", "layers_num", "heads_num", "feedforward_size")
    emb_size_is_hidden_size = True
    accepted_flags = ("factorized_embedding_parameterization", "parameter_sharing")

    def __init__(self, args):
        super().__init__()
        self.layers_num = args.layers_num
        self.factorized = getattr(args, "factorized_embedding_parameterization", False)
        self.parameter_sharing = getattr(args, "parameter_sharing", False)
        if self.factorized:
            self.linear = nn.Linear(args.emb_size, args.hidden_size)
        if self.parameter_sharing:
            self.transformer = TransformerLayer(args)
        else:
            self.transformer = nn.ModuleList([TransformerLayer(args) for _ in range(self.layers_num)])
        if pre_layer_norm(args):
            self.layer_norm = layer_norm_from_args(args, args.hidden_size)

    def layer(self, i):
        return self.transformer if self.parameter_sharing else self.transformer[i]

    def attention_mask(self, seg):
        if self.causal:
            return None
        return (seg > 0)[:, None, None, :]

    def forward(self, emb, seg, cache=None):
        """cache: a list of one dict per layer, kept between calls when decoding step by step (causal only)."""
        hidden = self.linear(emb) if self.factorized else emb
        mask = self.attention_mask(seg)
        for i in range(self.layers_num):
            hidden = self.layer(i)(hidden, mask, self.causal, cache[i] if cache is not None else None)
        return self.layer_norm(hidden) if hasattr(self, "layer_norm") else hidden
