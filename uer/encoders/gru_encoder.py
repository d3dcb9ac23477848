import torch.nn as nn

from uer.encoders.lstm_encoder import LstmEncoder


class GruEncoder(LstmEncoder):
    """Stacked GRU (`rnn`), otherwise as LstmEncoder."""

    rnn_class = nn.GRU
