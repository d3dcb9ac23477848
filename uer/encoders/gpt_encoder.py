from uer.encoders.bert_encoder import BertEncoder


class GptEncoder(BertEncoder):
    """Transformer with a causal mask: position t attends to positions <= t.

    Padding sits at the end of each sequence, so real tokens never attend to it under the causal mask.
    """

    default_mask = "causal"
