import torch.nn as nn


class Seq2seqModel(nn.Module):
    """embedding -> encoder, tgt_embedding -> decoder (attending to the encoder's output) -> target (T5, BART,
    PEGASUS). Keys begin with embedding., encoder., tgt_embedding., decoder., target.; with "share_embedding"
    the two word embeddings are one tensor (saved under both names)."""

    def __init__(self, embedding, encoder, tgt_embedding, decoder, target):
        super().__init__()
        self.embedding, self.encoder = embedding, encoder
        self.tgt_embedding, self.decoder, self.target = tgt_embedding, decoder, target
        self.subencoder = None

    def encode(self, src, seg):
        return self.encoder(self.embedding(src, seg), seg)

    def decode(self, memory, seg, tgt_in, tgt_seg, cache=None, start=0):
        """Decoder states of tgt_in (the target shifted right) given the encoder's output `memory` over seg."""
        return self.decoder(self.tgt_embedding(tgt_in, tgt_seg, start=start), tgt_seg, memory, seg, cache)

    def forward(self, src, tgt, seg):
        """tgt: {"tgt_in", "tgt_seg", "lm"} (decoder input, its segment ids, the labels, 0 = none)."""
        hidden = self.decode(self.encode(src, seg), seg, tgt["tgt_in"], tgt["tgt_seg"])
        return self.target(hidden, {"lm": tgt["lm"]})
