"""Log-likelihoods of continuations under a decoder model: the log-probability a model gives an answer after
its prompt, summed over the answer's tokens (preference training, multiple-choice evaluation, perplexity)."""
import torch

from uer.core.constants import PAD_ID


def continuation_batch(src, seg):
    """(inputs, tgt, seg) that score the tokens of segment 2 given everything before them: rows [n, length]
    whose prompt has segment 1 and whose continuation segment 2 (padding 0)."""
    inputs, following = src[:, :-1], src[:, 1:]
    mask = (seg[:, 1:] == 2).long()
    tgt = {"lm": torch.where(mask > 0, following, PAD_ID), "lm_mask": mask, "score": True}
    return inputs, tgt, (seg[:, :-1] > 0).long()


def continuation_log_probs(model, src, seg):
    """([n] summed log-probabilities of each row's segment 2, [n] its number of tokens)."""
    inputs, tgt, in_seg = continuation_batch(src, seg)
    out = model(inputs, tgt, in_seg)
    return out["logps"], out["tokens"]
