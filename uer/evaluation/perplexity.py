"""Perplexity of a text under a decoder model by a sliding window (HF's perplexity guide): windows of
`window` tokens starting every `stride` tokens; each scores only the tokens the previous window did not reach,
with the context before them. As the guide (and transformers' loss) computes it: each window's mean negative
log-likelihood is weighted by its number of target tokens minus one, and the perplexity is exp of the weighted
mean. stride == window: disjoint windows (no overlap, least context)."""
import math

import torch

from uer.evaluation.likelihood import continuation_log_probs


def windows(length, window, stride):
    """(begin, end, targets) of each window: tokens [begin, end), the last `targets` of them scored."""
    out, previous_end = [], 0
    for begin in range(0, length, stride):
        end = min(begin + window, length)
        out.append((begin, end, end - previous_end))
        previous_end = end
        if end == length:
            break
    return out


def perplexity(model, ids, window, stride, device):
    """(perplexity, mean negative log-likelihood, scored tokens) of token ids [length] (a list)."""
    if stride < 1 or stride > window:
        raise ValueError(f"--stride must be between 1 and the window ({window}), not {stride}")
    nll_sum, weight, scored = 0.0, 0, 0
    ids = torch.tensor(ids, dtype=torch.long, device=device)
    with torch.no_grad():
        for begin, end, targets in windows(len(ids), window, stride):
            src = ids[begin:end][None]
            seg = torch.ones_like(src)
            seg[:, max(end - begin - targets, 1):] = 2  # the first token of a window is never a target
            logps, tokens = continuation_log_probs(model, src, seg)
            mean = -float(logps[0]) / max(int(tokens[0]), 1)
            nll_sum += mean * (targets - 1)
            weight += targets - 1
            scored += int(tokens[0])
    mean = nll_sum / max(weight, 1)
    return math.exp(mean), mean, scored
