import torch.nn as nn

from uer.layers.causal_conv import conv_stack, run_conv_stack
from uer.layers.dropout import dropout
from uer.layers.rnn import lengths_of, run_rnn


class CrnnEncoder(nn.Module):
    """Causal convolutions (`conv_1`, `conv.{i}`) followed by an LSTM (`rnn`, layers_num layers). Causal."""

    causal = True
    shape_keys = ("hidden_size", "layers_num")

    def __init__(self, args):
        super().__init__()
        self.dropout = args.dropout
        self.conv_1, self.conv = conv_stack(args.emb_size, args.hidden_size, args.kernel_size,
                                               args.layers_num - 1)
        self.rnn = nn.LSTM(input_size=args.hidden_size, hidden_size=args.hidden_size, num_layers=args.layers_num,
                           dropout=args.dropout if args.layers_num > 1 else 0.0, batch_first=True)

    def forward(self, emb, seg):
        hidden = run_conv_stack(emb, self.conv_1, self.conv)
        return dropout(run_rnn(self.rnn, hidden, lengths_of(seg), packed=False), self.dropout, self.training)
