from uer.decoders.transformer_decoder import TransformerDecoder

# Adding a decoder: one file under uer/decoders/ and one line here.
str2decoder = {"transformer": TransformerDecoder}
