"""Text: tokenizers (BERT WordPiece, char, space, sentencepiece)."""
