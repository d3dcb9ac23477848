import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    """Layer normalisation with UER's parameter names (`gamma`, `beta`).

    Default: the fused kernel (biased variance, eps inside the square root, as Google/HF BERT).
    `unbiased_std=True` reproduces the 2020 UER-py formula exactly: gamma * (x - mean) / (std + eps) + beta.
    """

    def __init__(self, hidden_size, eps=1e-6, unbiased_std=False):
        super().__init__()
        self.eps = eps
        self.unbiased_std = unbiased_std
        self.gamma = nn.Parameter(torch.ones(hidden_size))
        self.beta = nn.Parameter(torch.zeros(hidden_size))

    def forward(self, x):
        if self.unbiased_std:
            mean = x.mean(-1, keepdim=True)
            std = x.std(-1, keepdim=True)
            return self.gamma * (x - mean) / (std + self.eps) + self.beta
        return F.layer_norm(x, self.gamma.shape, self.gamma, self.beta, self.eps)


def layer_norm_from_args(args, size):
    return LayerNorm(size, eps=getattr(args, "layer_norm_eps", 1e-6),
                     unbiased_std=getattr(args, "layer_norm_unbiased", False))
