import torch.nn as nn

from uer.layers.layer_norm import layer_norm_from_args
from uer.layers.synthesizer import DenseSynthesizerAttention
from uer.layers.transformer import TransformerLayer, pre_layer_norm


class SyntEncoder(nn.Module):
    """Transformer layers whose attention is a dense Synthesizer (`synthesizer.{i}`).

    Keys per layer: `synthesizer.{i}.self_attn.{dense_1,dense_2,value,final_linear}` plus the transformer's
    `layer_norm_1`, `feed_forward.linear_1/2`, `layer_norm_2`. The original UER-py could not build this encoder,
    so there were no published weights to match; the names follow the transformer's.
    """

    causal = False
    shape_keys = ("hidden_size", "layers_num", "heads_num", "feedforward_size")
    emb_size_is_hidden_size = True

    def __init__(self, args):
        super().__init__()
        self.synthesizer = nn.ModuleList(
            TransformerLayer(args, DenseSynthesizerAttention(args.hidden_size, args.heads_num, args.max_seq_length,
                                                             args.dropout))
            for _ in range(args.layers_num))
        if pre_layer_norm(args):
            self.layer_norm = layer_norm_from_args(args, args.hidden_size)

    def forward(self, emb, seg):
        mask = (seg > 0)[:, None, None, :]
        hidden = emb
        for layer in self.synthesizer:
            hidden = layer(hidden, mask)
        return self.layer_norm(hidden) if hasattr(self, "layer_norm") else hidden
