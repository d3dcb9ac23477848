import torch.nn as nn

from uer.layers.dropout import dropout
from uer.layers.rnn import lengths_of, run_rnn
from uer.core.model_config import model_config


class LstmEncoder(nn.Module):
    """Stacked LSTM (`rnn`); with --bidirectional each direction gets hidden_size / 2 units.

    Forward-only, it is causal and fits the lm target; with --bidirectional and one layer its two output halves
    are a forward and a backward language model (the bilm target). Stacked bidirectional layers mix the
    directions, which is why bilstm exists.
    """

    rnn_class = nn.LSTM
    shape_keys = ("hidden_size", "layers_num")
    accepted_flags = ("bidirectional",)

    def __init__(self, args):
        args = model_config(args)
        super().__init__()
        self.bidirectional = args.bidirectional
        if self.bidirectional and args.hidden_size % 2:
            raise ValueError(f"--bidirectional needs an even hidden_size, got {args.hidden_size}")
        self.causal = not self.bidirectional
        self.directions_split = self.bidirectional and args.layers_num == 1
        self.dropout = args.dropout
        self.rnn = self.rnn_class(input_size=args.emb_size,
                                  hidden_size=args.hidden_size // 2 if self.bidirectional else args.hidden_size,
                                  num_layers=args.layers_num, dropout=args.dropout if args.layers_num > 1 else 0.0,
                                  batch_first=True, bidirectional=self.bidirectional)

    def forward(self, emb, seg):
        output = run_rnn(self.rnn, emb, lengths_of(seg), packed=self.bidirectional)
        return dropout(output, self.dropout, self.training)
