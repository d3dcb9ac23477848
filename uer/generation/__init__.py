"""Generation: next tokens by greedy, sampled or beam search, from decoder-only models (decoder_only.py) and
encoder-decoder models (seq2seq.py)."""
