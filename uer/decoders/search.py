"""Choosing the next token when generating: greedy, or sampling from a temperature-scaled distribution cut by
top-k and top-p (nucleus). scripts/generate.py and scripts/generate_seq2seq.py decode with it."""
import torch


def next_token(logits, top_k, top_p, temperature, generator):
    """top_k 1: the most likely token; otherwise a sample from softmax(logits / temperature) kept to the top_k
    most likely (0: all) and to the smallest set holding top_p of the probability."""
    if top_k == 1:
        return int(logits.argmax())
    logits = logits.float() / max(temperature, 1e-6)
    if top_k > 0:
        kth = logits.topk(min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, -1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        outside = sorted_probs.cumsum(0) - sorted_probs >= top_p  # keep the smallest prefix reaching top_p
        probs[order[outside]] = 0.0
    return int(torch.multinomial(probs / probs.sum(), 1, generator=generator))
