from uer.subencoders.base import Subencoder, masked_mean


class AvgSubencoder(Subencoder):
    """Mean of the character embeddings."""

    def compose(self, emb, mask):
        return masked_mean(emb, mask)
