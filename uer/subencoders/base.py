import torch
import torch.nn as nn


class Subencoder(nn.Module):
    """A vector per word composed from its characters' embeddings (`embedding_layer`).

    Each distinct word of a batch is composed once; words without characters (special tokens) get zeros.
    The word -> characters table is derived from the vocabularies, so it is not saved in checkpoints.
    """

    def __init__(self, args, sub_vocab_size, char_ids):
        super().__init__()
        self.embedding_layer = nn.Embedding(sub_vocab_size, args.emb_size)
        self.register_buffer("char_ids", char_ids, persistent=False)

    def compose(self, emb, mask):
        """emb [words, chars, emb_size], mask [words, chars] (True on characters) -> [words, emb_size]."""
        raise NotImplementedError

    def forward(self, src):
        words, inverse = torch.unique(src, return_inverse=True)
        chars = self.char_ids[words]
        mask = chars > 0
        width = max(1, int(mask.sum(1).max()))
        chars, mask = chars[:, :width], mask[:, :width]
        vectors = self.compose(self.embedding_layer(chars), mask) * mask.any(1, keepdim=True)
        return vectors[inverse]


def masked_mean(x, mask):
    mask = mask.unsqueeze(-1).to(x.dtype)
    return (x * mask).sum(1) / mask.sum(1).clamp(min=1)
