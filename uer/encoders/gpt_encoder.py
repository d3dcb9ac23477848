from uer.encoders.transformer_encoder import TransformerEncoder


class GptEncoder(TransformerEncoder):
    """Transformer with a causal mask: position t attends to positions <= t.

    Padding sits at the end of each sequence, so real tokens never attend to it under the causal mask.
    """

    fixed_mask = "causal"
