import torch.nn as nn

from uer.layers.multi_headed_attn import MultiHeadedAttention


class AttnEncoder(nn.Module):
    """layers_num self-attention layers (`self_attn.{i}`), no feed-forward, residual or layer norm (as UER)."""

    causal = False
    shape_keys = ("hidden_size", "layers_num", "heads_num")
    emb_size_is_hidden_size = True

    def __init__(self, args):
        super().__init__()
        self.self_attn = nn.ModuleList(MultiHeadedAttention(args.hidden_size, args.heads_num, args.dropout)
                                       for _ in range(args.layers_num))

    def forward(self, emb, seg):
        mask = (seg > 0)[:, None, None, :]
        hidden = emb
        for attn in self.self_attn:
            hidden = attn(hidden, hidden, hidden, mask)
        return hidden
