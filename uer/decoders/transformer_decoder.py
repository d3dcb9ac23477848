from uer.encoders.transformer_encoder import TransformerEncoder


class TransformerDecoder(TransformerEncoder):
    """The decoder of an encoder-decoder model ("decoder": "transformer"): "decoder_layers_num" transformer layers
    (`transformer_decoder.{i}`) with causal self-attention, cross-attention to the encoder's output and the
    feed-forward, with the encoder's block keys; T5's relative position bias is its own (`self_pos_emb`,
    unidirectional); pre-LN layers are followed by a final `layer_norm`."""

    fixed_mask = "causal"
    layers_name, depth_key, cross_attention = "transformer_decoder", "decoder_layers_num", True
    relative_name = "self_pos_emb"

    def forward(self, emb, tgt_seg, memory, src_seg, cache=None):
        """emb: the target embedding at tgt_seg's positions; memory: the encoder's output over src_seg."""
        return super().forward(emb, tgt_seg, cache, memory, src_seg)
