"""--gradient_checkpointing, applied from outside the model: each transformer layer keeps only its input in the
forward pass and is recomputed in the backward pass (torch.utils.checkpoint, non-reentrant; the RNG state is
replayed, so the recomputed dropout masks are the first pass's). The model's classes know nothing of it."""
import functools

import torch
from torch.utils.checkpoint import checkpoint

from uer.core.errors import UserInputError
from uer.encoders.transformer_encoder import TransformerEncoder
from uer.layers.transformer import TransformerLayer


def recompute_layers_in_backward(model):
    stacks = [m for m in model.modules() if isinstance(m, TransformerEncoder)]
    if not stacks:
        raise UserInputError(f"--gradient_checkpointing recomputes transformer layers, and the "
                             f"{type(getattr(model, 'encoder', model)).__name__} has none; drop the flag")
    for layer in {m for stack in stacks for m in stack.modules() if isinstance(m, TransformerLayer)}:
        layer.forward = functools.partial(_recomputed, layer)


def _recomputed(layer, hidden, mask, is_causal=False, cache=None, *rest):
    forward = type(layer).forward  # looked up per call: FSDP and tests may replace the class's
    if layer.training and cache is None and torch.is_grad_enabled():
        return checkpoint(forward, layer, hidden, mask, is_causal, None, *rest, use_reentrant=False)
    return forward(layer, hidden, mask, is_causal, cache, *rest)
