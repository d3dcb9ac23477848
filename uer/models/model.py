import torch
import torch.nn as nn

from uer.core.errors import UserInputError


def document_positions(documents):
    """[batch, seq] place of each position in its document (runs of equal numbers in `documents`)."""
    index = torch.arange(documents.size(1), device=documents.device).expand_as(documents)
    starts = torch.ones_like(documents, dtype=torch.bool)
    starts[:, 1:] = documents[:, 1:] != documents[:, :-1]
    return index - torch.where(starts, index, 0).cummax(1).values


class Body(nn.Module):
    """Embedding, encoder and optional subencoder: the part of every model that a UER checkpoint carries from
    pre-training to fine-tuning (keys embedding., encoder., subencoder.)."""

    def __init__(self, embedding, encoder, subencoder=None):
        super().__init__()
        self.embedding = embedding
        self.encoder = encoder
        self.subencoder = subencoder

    def embed(self, src, seg, positions=None):
        emb = self.embedding(src, seg) if positions is None else self.embedding(src, seg, positions=positions)
        if self.subencoder is not None:
            emb = emb + self.subencoder(src).to(emb.dtype)
        return emb

    def encode(self, src, seg, documents=None):
        """documents [batch, seq] (packed rows, left padding): each position's document, 0 for padding; each
        attends within its own and its positions start at 0 there."""
        if documents is None:
            return self.encoder(self.embed(src, seg), seg)
        self.check_documents()
        positions = document_positions(documents)
        return self.encoder(self.embed(src, seg, positions), seg, documents=documents, positions=positions)

    def check_documents(self):
        if not getattr(self.encoder, "causal", False) or not getattr(self.embedding, "takes_positions", False):
            raise UserInputError("packed rows and batched generation need a causal transformer decoder with "
                                 "rotary, ALiBi or learned positions (the gpt/transformer encoder with \"mask\": "
                                 "\"causal\"; embedding word or word_pos)")


class Model(Body):
    """embedding -> encoder -> target. Keys of its state_dict begin with embedding., encoder., target. (and
    subencoder. when words are also composed from their characters)."""

    def __init__(self, args, embedding, encoder, target, subencoder=None):
        super().__init__(embedding, encoder, subencoder)
        self.target = target

    def forward(self, src, tgt, seg):
        documents = tgt.get("documents") if isinstance(tgt, dict) else None
        return self.target(self.encode(src, seg, documents), tgt)
