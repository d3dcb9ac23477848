import torch.nn as nn


class Body(nn.Module):
    """Embedding, encoder and optional subencoder: the part of every model that a UER checkpoint carries from
    pre-training to fine-tuning (keys embedding., encoder., subencoder.)."""

    def __init__(self, embedding, encoder, subencoder=None):
        super().__init__()
        self.embedding = embedding
        self.encoder = encoder
        self.subencoder = subencoder

    def embed(self, src, seg):
        emb = self.embedding(src, seg)
        if self.subencoder is not None:
            emb = emb + self.subencoder(src).to(emb.dtype)
        return emb

    def encode(self, src, seg):
        return self.encoder(self.embed(src, seg), seg)


class Model(Body):
    """embedding -> encoder -> target. Keys of its state_dict begin with embedding., encoder., target. (and
    subencoder. when words are also composed from their characters)."""

    def __init__(self, args, embedding, encoder, target, subencoder=None):
        super().__init__(embedding, encoder, subencoder)
        self.target = target

    def forward(self, src, tgt, seg):
        return self.target(self.encode(src, seg), tgt)
