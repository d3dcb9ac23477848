import torch
import torch.nn as nn

from uer.layers.dropout import dropout
from uer.layers.layer_norm import layer_norm_from_args


class WordEmbedding(nn.Module):
    """Word embedding + layer norm, no positions (RNN/CNN encoders)."""

    def __init__(self, args, vocab_size):
        super().__init__()
        self.dropout = args.dropout
        self.word_embedding = nn.Embedding(vocab_size, args.emb_size)
        self.layer_norm = layer_norm_from_args(args, args.emb_size)

    def forward(self, src, seg):
        return dropout(self.layer_norm(self.word_embedding(src)), self.dropout, self.training)


class BertEmbedding(nn.Module):
    """Word + position + segment embeddings, layer norm, dropout."""

    def __init__(self, args, vocab_size):
        super().__init__()
        self.dropout = args.dropout
        self.max_seq_length = getattr(args, "max_seq_length", 512)
        self.word_embedding = nn.Embedding(vocab_size, args.emb_size)
        self.position_embedding = nn.Embedding(self.max_seq_length, args.emb_size)
        self.segment_embedding = nn.Embedding(3, args.emb_size)
        self.layer_norm = layer_norm_from_args(args, args.emb_size)

    def forward(self, src, seg, start=0):
        """start: position of src's first token (when decoding continues a cached prefix)."""
        seq_length = start + src.size(1)
        if seq_length > self.max_seq_length:
            raise ValueError(f"sequence of {seq_length} tokens is longer than the position embedding "
                             f"({self.max_seq_length}); lower --seq_length")
        pos = torch.arange(start, seq_length, device=src.device)
        emb = self.word_embedding(src) + self.position_embedding(pos) + self.segment_embedding(seg)
        return dropout(self.layer_norm(emb), self.dropout, self.training)
