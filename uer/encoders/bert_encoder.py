from uer.encoders.transformer_encoder import TransformerEncoder


class BertEncoder(TransformerEncoder):
    """UER-py's `bert`: the transformer stack with every real token visible to every other."""

    fixed_mask = "fully_visible"
