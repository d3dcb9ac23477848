"""Interoperability: weights and configs to and from HuggingFace transformers and Google BERT checkpoints."""
