import torch.nn as nn


class Model(nn.Module):
    """embedding -> encoder -> target. Keys of its state_dict begin with embedding., encoder., target."""

    def __init__(self, args, embedding, encoder, target):
        super().__init__()
        self.embedding = embedding
        self.encoder = encoder
        self.target = target

    def forward(self, src, tgt, seg):
        memory_bank = self.encoder(self.embedding(src, seg), seg)
        return self.target(memory_bank, tgt)
