"""Layer normalisation with UER's parameter names (`gamma`, `beta`), in the two formulas a config can ask for,
and RMSNorm ("layernorm": "rms" or "t5": LLaMA, T5) with the successor's name (`weight`).

- "unbiased" (UER-py 2020, the default): gamma * (x - mean) / (std + eps) + beta, std with n - 1, eps 1e-6.
  Every checkpoint and config of the original computes this; it runs as one autograd function on torch's fused
  layer-norm kernels (see UnbiasedStdNorm), so it costs about what the fused kernel costs.
- "standard" (Google/HuggingFace BERT): gamma * (x - mean) / sqrt(biased var + eps) + beta, torch's fused
  kernel. Configs select it with "layer_norm_unbiased": false (the converters write that, with eps 1e-12).

How a config picks one is decided in uer/opts.py (check_layer_norm_keys).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from uer.core.model_config import model_config

TINY = 1e-30  # keeps a constant row finite (its xhat is 0) without changing any other row


class UnbiasedStdNorm(torch.autograd.Function):
    """y = gamma * (x - mean) / (std_unbiased + eps) + beta over the last dimension, built on torch's fused
    layer-norm kernels (var_mean alone is slower than the whole fused layer norm on CPU).

    Forward: the fused kernel with eps ~ 0 gives xb = (x - mean) / std_biased and 1 / std_biased in one pass;
    xhat = xb * std_biased / (std_unbiased + eps). Backward: the fused backward evaluated at X = g * xhat with
    mean 0 and rstd = 1 / (std_unbiased + eps) computes rstd * (h - mean(h)) - rstd^3 * X * mean(h * X); with
    g^2 = n * d^3 / ((n - 1) * std_unbiased) (d = std_unbiased + eps) that is exactly this formula's gradient.
    """

    @staticmethod
    def forward(ctx, x, gamma, beta, eps):
        n = x.size(-1)
        # (unit weight and zero bias given: the kernel without them is 3x slower on CPU)
        xb, _, rstd_b = torch.native_layer_norm(x, (n,), gamma.new_ones(n), gamma.new_zeros(n), TINY)
        std = rstd_b.reciprocal().mul_(math.sqrt(n / (n - 1)))
        denom = std + eps
        xhat = xb.mul_(std.mul(math.sqrt((n - 1) / n)).div_(denom).view_as(xb[..., :1]))
        ctx.save_for_backward(xhat, gamma, std, denom)
        return torch.addcmul(beta, xhat, gamma)

    @staticmethod
    def backward(ctx, grad):
        xhat, gamma, std, denom = ctx.saved_tensors
        n = xhat.size(-1)
        grad = grad.contiguous()
        shape = xhat.shape[:-1] + (1,)
        scale = denom.pow(3).mul_(n / (n - 1)).div_(std.clamp_min(TINY)).sqrt_().view(shape)
        zero = torch.zeros_like(denom)
        grad_x = torch.ops.aten.native_layer_norm_backward(
            grad, xhat * scale, (n,), zero, denom.reciprocal(), gamma, gamma, [True, False, False])[0]
        # sum(grad * xhat) and sum(grad): the same kernel's weight and bias gradients at X = xhat, rstd = 1
        _, grad_gamma, grad_beta = torch.ops.aten.native_layer_norm_backward(
            grad, xhat, (n,), zero, torch.ones_like(denom), gamma, gamma,
            [False, ctx.needs_input_grad[1], ctx.needs_input_grad[2]])
        return grad_x, grad_gamma, grad_beta, None


class LayerNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6, unbiased_std=True):
        super().__init__()
        self.eps = eps
        self.unbiased_std = unbiased_std
        self.gamma = nn.Parameter(torch.ones(hidden_size))
        self.beta = nn.Parameter(torch.zeros(hidden_size))

    def forward(self, x):
        if not self.unbiased_std:
            return F.layer_norm(x, self.gamma.shape, self.gamma, self.beta, self.eps)
        if x.dtype != self.gamma.dtype:
            x = x.to(self.gamma.dtype)  # under autocast, normalise in fp32 as F.layer_norm does
        return UnbiasedStdNorm.apply(x, self.gamma, self.beta, self.eps)

    def extra_repr(self):
        return f"{self.gamma.numel()}, eps={self.eps}, {'unbiased std' if self.unbiased_std else 'standard'}"


class RMSNorm(nn.Module):
    """weight * x / sqrt(mean(x^2) + eps): no mean subtracted, no bias (T5LayerNorm, LLaMA's RMSNorm). Computed in
    fp32 whatever the input's precision, as HuggingFace's."""

    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden_size))

    def forward(self, x):
        if x.dtype == self.weight.dtype == torch.float32:  # the same products in the same order, fewer operations
            return F.rms_norm(x, self.weight.shape, self.weight, self.eps)
        normed = F.rms_norm(x.float(), self.weight.shape, None, self.eps).to(x.dtype)
        return self.weight * normed

    def extra_repr(self):
        return f"{self.weight.numel()}, eps={self.eps}, rms"


class GemmaRMSNorm(RMSNorm):
    """"layernorm": "gemma": RMSNorm scaled by (1 + weight), its weight starting at 0 (GemmaRMSNorm), all in
    fp32."""

    def __init__(self, hidden_size, eps=1e-6):
        super().__init__(hidden_size, eps)
        nn.init.zeros_(self.weight)

    def forward(self, x):
        normed = F.rms_norm(x.float(), self.weight.shape, None, self.eps)
        return (normed * (1.0 + self.weight.float())).to(x.dtype)


def layer_norm_from_args(args, size):
    args = model_config(args)
    eps = args.layer_norm_eps
    if args.layernorm == "gemma":
        return GemmaRMSNorm(size, eps=eps)
    if args.layernorm in ("rms", "t5"):
        return RMSNorm(size, eps=eps)
    return LayerNorm(size, eps=eps, unbiased_std=args.layer_norm_unbiased)
