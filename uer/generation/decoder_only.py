"""Decoder-only generation: the hidden state of a text's last position, step by step, with the keys and values
of the transformer's earlier positions kept (one token's work per step)."""
import torch

from uer.encoders.transformer_encoder import TransformerEncoder


class Decoder:
    """decoder(ids) -> the last position's hidden state. Transformer (gpt) encoders keep the keys and values of
    earlier positions, so each step encodes only the new token; other encoders re-read the whole prefix."""

    def __init__(self, model, device):
        self.model, self.device, self.done = model, device, 0
        cached = isinstance(model.encoder, TransformerEncoder) and model.encoder.causal and model.subencoder is None
        self.cache = [{} for _ in range(model.encoder.layers_num)] if cached else None

    def __call__(self, ids):
        if self.cache is None:
            src = torch.tensor([ids], device=self.device)
            return self.model.encode(src, torch.ones_like(src))[0, -1]
        src = torch.tensor([ids[self.done:]], device=self.device)
        seg = torch.ones_like(src)
        hidden = self.model.encoder(self.model.embedding(src, seg, start=self.done), seg, self.cache)
        self.done = len(ids)
        return hidden[0, -1]
