import torch.nn as nn

from uer.layers.causal_conv import conv_stack, run_conv_stack
from uer.layers.dropout import dropout
from uer.layers.rnn import lengths_of, run_rnn


class RcnnEncoder(nn.Module):
    """LSTM (`rnn`, layers_num layers) followed by causal convolutions (`conv_1`, `conv.{i}`). Causal.

    The first convolution reads the LSTM's hidden_size outputs (the original sized it by emb_size, which only
    worked when both were equal, as in rnn_config.json).
    """

    causal = True
    shape_keys = ("hidden_size", "layers_num")

    def __init__(self, args):
        super().__init__()
        self.dropout = args.dropout
        self.rnn = nn.LSTM(input_size=args.emb_size, hidden_size=args.hidden_size, num_layers=args.layers_num,
                           dropout=args.dropout if args.layers_num > 1 else 0.0, batch_first=True)
        self.conv_1, self.conv = conv_stack(args.hidden_size, args.hidden_size, args.kernel_size,
                                               args.layers_num - 1)

    def forward(self, emb, seg):
        output = dropout(run_rnn(self.rnn, emb, lengths_of(seg), packed=False), self.dropout, self.training)
        return run_conv_stack(output, self.conv_1, self.conv)
