
import torch

from uer.core.fileutil import atomic_open


def unwrap(model):
    return model.module if hasattr(model, "module") else model


def atomic_torch_save(obj, path):
    with atomic_open(path) as f:
        torch.save(obj, f)


def cpu_state_dict(model):
    """The state_dict as CPU tensors (UER key names; tied weights appear under both names); of a model with
    LoRA adapters, only what trains (its saved_keys)."""
    model = unwrap(model)
    keep = getattr(model, "saved_keys", None)
    return {k: v.detach().cpu() for k, v in model.state_dict().items() if keep is None or k in keep}


def save_model(model, path):
    atomic_torch_save(cpu_state_dict(model), path)
