import torch
import torch.nn as nn

from uer.layers.dropout import dropout
from uer.layers.rnn import lengths_of, run_rnn, reverse_within_length


class BilstmEncoder(nn.Module):
    """Two separate stacked LSTMs (`rnn_forward`, `rnn_backward`) of hidden_size / 2 units each (ELMo).

    Unlike a stacked bidirectional LSTM, no layer sees the other direction, so the output halves stay a pure
    forward and a pure backward language model. The backward LSTM reads each row reversed within its length,
    never the padding.
    """

    causal = False
    shape_keys = ("hidden_size", "layers_num")
    directions_split = True

    def __init__(self, args):
        super().__init__()
        if args.hidden_size % 2:
            raise ValueError(f"bilstm needs an even hidden_size, got {args.hidden_size}")
        self.dropout = args.dropout

        def lstm():
            return nn.LSTM(input_size=args.emb_size, hidden_size=args.hidden_size // 2, num_layers=args.layers_num,
                           dropout=args.dropout if args.layers_num > 1 else 0.0, batch_first=True)

        self.rnn_forward = lstm()
        self.rnn_backward = lstm()

    def forward(self, emb, seg):
        lengths = lengths_of(seg)
        forward = run_rnn(self.rnn_forward, emb, lengths, packed=False)
        backward = run_rnn(self.rnn_backward, reverse_within_length(emb, lengths), lengths, packed=False)
        output = torch.cat([forward, reverse_within_length(backward, lengths)], 2)
        return dropout(output, self.dropout, self.training)
