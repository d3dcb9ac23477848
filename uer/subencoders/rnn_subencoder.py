import torch.nn as nn

from uer.subencoders.base import Subencoder, masked_mean


class LstmSubencoder(Subencoder):
    """Mean of a forward LSTM's outputs (`rnn`, sub_layers_num layers) over the characters; characters come
    first in each row, so the padding after them never reaches these outputs."""

    rnn_class = nn.LSTM

    def __init__(self, args, sub_vocab_size, char_ids):
        super().__init__(args, sub_vocab_size, char_ids)
        self.rnn = self.rnn_class(args.emb_size, args.emb_size, num_layers=args.sub_layers_num, batch_first=True)

    def compose(self, emb, mask):
        return masked_mean(self.rnn(emb)[0], mask)


class GruSubencoder(LstmSubencoder):
    rnn_class = nn.GRU
