"""--use_lora: low-rank adapters (LoRA) on the attention's linear layers (and with --lora_feed_forward the
feed-forward's): y = x W^T + b + (alpha / r) * dropout(x) A^T B^T, A [r, in] and B [out, r] the only weights of
those layers that train (B starts at zero: the adapted model starts as the pre-trained one). W and b keep their
names, so the pre-trained weights load as they are; a model's saved file holds what trains: the adapters and the
task head (every weight the pre-trained file did not have)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from uer.layers.dropout import dropout
from uer.layers.multi_headed_attn import MultiHeadedAttention
from uer.layers.position_ffn import PositionwiseFeedForward, GatedFeedForward
from uer.core.errors import UserInputError


class LoRALinear(nn.Module):
    def __init__(self, linear, r, alpha, p):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight, self.bias = linear.weight, linear.bias
        self.lora_a = nn.Parameter(torch.empty(r, linear.in_features, device=linear.weight.device))
        self.lora_b = nn.Parameter(torch.zeros(linear.out_features, r, device=linear.weight.device))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))  # as nn.Linear's (and peft's) initialisation
        self.scale, self.p = alpha / r, p

    def forward(self, x):
        low_rank = F.linear(F.linear(dropout(x, self.p, self.training), self.lora_a), self.lora_b)
        return F.linear(x, self.weight, self.bias) + self.scale * low_rank


def adapt(model, args, pretrained_keys):
    """Adapters in place of the chosen linear layers; everything else frozen except the weights not in
    `pretrained_keys` (the task head). Returns the number of weights that train."""
    if args.lora_r < 1:
        raise UserInputError("--lora_r must be at least 1")
    adapted = 0
    for module in list(model.modules()):
        names = []
        if isinstance(module, MultiHeadedAttention):
            names = [f"linear_layers.{i}" for i in range(len(module.linear_layers))] + ["final_linear"]
        elif args.lora_feed_forward and isinstance(module, (PositionwiseFeedForward, GatedFeedForward)):
            names = [n for n in ("linear_gate", "linear_1", "linear_2") if hasattr(module, n)]
        for name in names:
            parent, _, leaf = name.rpartition(".")
            holder = module.get_submodule(parent) if parent else module
            setattr(holder, leaf, LoRALinear(getattr(holder, leaf), args.lora_r, args.lora_alpha, args.lora_dropout))
            adapted += 1
    if not adapted:
        raise UserInputError(f"--use_lora adapts the attention of transformer layers, and the {args.encoder} encoder "
                             "has none")
    trains = {n for n, _ in model.named_parameters() if ".lora_" in n or n not in pretrained_keys}
    for name, p in model.named_parameters():
        p.requires_grad = name in trains
    model.saved_keys = trains
    return sum(p.numel() for n, p in model.named_parameters() if n in trains)


def merged(base, adapters, alpha):
    """A full state dict: base's weights with each adapted W replaced by W + (alpha / r) B A, and the adapters'
    file's other weights (the task head) added; it loads into the model without --use_lora."""
    out = dict(base)
    for key, a in adapters.items():
        if key.endswith(".lora_a"):
            stem = key[:-len("lora_a")]
            b = adapters[stem + "lora_b"]
            if stem + "weight" not in base:
                raise UserInputError(f"the base model has no {stem}weight to merge {key} into")
            w = base[stem + "weight"]
            out[stem + "weight"] = (w.float() + (alpha / a.size(0)) * (b.float() @ a.float())).to(w.dtype)
        elif not key.endswith(".lora_b"):
            out[key] = adapters[key]
    return out
