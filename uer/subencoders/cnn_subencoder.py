import torch
import torch.nn.functional as F

from uer.layers.causal_conv import conv_stack, causal_conv
from uer.subencoders.base import Subencoder


class CnnSubencoder(Subencoder):
    """sub_layers_num ReLU convolutions of width kernel_size over the characters (`conv_1`, `conv.{i}`), then
    the maximum over the character positions."""

    def __init__(self, args, sub_vocab_size, char_ids):
        super().__init__(args, sub_vocab_size, char_ids)
        self.conv_1, self.conv = conv_stack(args.emb_size, args.emb_size, args.kernel_size, args.sub_layers_num)

    def compose(self, emb, mask):
        hidden = F.relu(causal_conv(emb.transpose(1, 2), self.conv_1))
        for layer in self.conv:
            hidden = F.relu(causal_conv(hidden, layer))
        hidden = hidden.masked_fill(~mask[:, None, :], torch.finfo(hidden.dtype).min)
        return hidden.max(2).values
