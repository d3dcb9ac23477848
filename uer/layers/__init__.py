from uer.layers.embeddings import (BertEmbedding, TencentpretrainSinusoidalposEmbedding, WordEmbedding,
                                   WordPosEmbedding, WordSinusoidalposEmbedding)

# Adding an embedding: one file under uer/layers/ and one line here.
str2embedding = {"bert": BertEmbedding, "word": WordEmbedding, "word_pos": WordPosEmbedding,
                 "word_sinusoidalpos": WordSinusoidalposEmbedding,
                 "word_sinusoidalpos_tencentpretrain": TencentpretrainSinusoidalposEmbedding}
