import torch.nn as nn


class Model(nn.Module):
    """embedding -> encoder -> target. Keys of its state_dict begin with embedding., encoder., target. (and
    subencoder. when words are also composed from their characters)."""

    def __init__(self, args, embedding, encoder, target, subencoder=None):
        super().__init__()
        self.embedding = embedding
        self.encoder = encoder
        self.target = target
        self.subencoder = subencoder

    def embed(self, src, seg):
        emb = self.embedding(src, seg)
        if self.subencoder is not None:
            emb = emb + self.subencoder(src).to(emb.dtype)
        return emb

    def forward(self, src, tgt, seg):
        return self.target(self.encoder(self.embed(src, seg), seg), tgt)
