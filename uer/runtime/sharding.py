"""--fsdp: parameters, gradients and optimizer state sharded over all processes (FSDP2, `fully_shard`).

Each transformer layer is a unit of its own and the root holds the rest (embeddings, target, final norm); with
--fp16 the units compute in half precision (bf16 on CPU, fp16 on CUDA) from fp32 master shards, and reduce
gradients in fp32. Checkpoints stay single UER files: the full state dict is gathered to rank 0's CPU. The
optimizer moments of the resume state are written sharded, each process its own rows, with
torch.distributed.checkpoint, beside the checkpoint (`OUTPUT_MODEL_PATH-STEP.optimizer/`).
"""
import contextlib
import glob
import os
import shutil

import torch

OPTIMIZER_DIR = ".optimizer"


def building_device(placement):
    """Where a --fsdp process builds its model: the master for real (it initialises and loads the weights),
    the others on the meta device, holding no memory until shard() gives them their shards of the master's."""
    return contextlib.nullcontext() if placement.is_master else torch.device("meta")


def shard(model, layers, placement, precision):
    """model sharded in place: `layers` (its transformer layers) one unit each, then the root; each process's
    shards (and the buffers) are the master's weights, sent from it."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard, MixedPrecisionPolicy
    from torch.distributed.checkpoint.state_dict import set_model_state_dict, StateDictOptions
    device = torch.device(placement.device)
    mesh = init_device_mesh(device.type, (placement.world_size,))
    policy = MixedPrecisionPolicy(param_dtype=precision.dtype, reduce_dtype=torch.float32) \
        if precision.enabled else MixedPrecisionPolicy()
    if placement.is_master:
        model.to(device)
    own = model.state_dict()
    full, persistent = own if placement.is_master else {}, set(own)
    for layer in layers:
        fully_shard(layer, mesh=mesh, mp_policy=policy)
    fully_shard(model, mesh=mesh, mp_policy=policy)
    if not placement.is_master:
        model.to_empty(device=device)
    set_model_state_dict(model, full, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
    for name, buffer in model.named_buffers():
        if name not in persistent:  # computed when built (positions, frequencies): not in a state dict
            dist.broadcast(buffer, src=0)
    return model


def gradient_sync(model, sync):
    """Whether this backward pass reduces gradients (False: accumulate locally, as DDP's no_sync)."""
    model.set_requires_gradient_sync(sync)


def full_state_dict(model):
    """The whole model's state dict on rank 0's CPU (empty elsewhere); every process must call it. Of a model
    with LoRA adapters, only what trains (its saved_keys), as unsharded."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, StateDictOptions
    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    keep = getattr(model, "saved_keys", None)
    return state if keep is None else {k: v for k, v in state.items() if k in keep}


def load_full_state_dict(model, weights):
    """A full state dict (every process has it; of a model with adapters, what it saved) into this process's
    shards."""
    from torch.distributed.checkpoint.state_dict import set_model_state_dict, StateDictOptions
    partial = hasattr(model, "saved_keys")
    set_model_state_dict(model, weights, options=StateDictOptions(full_state_dict=True, strict=not partial))


def optimizer_dir(model_path):
    return model_path + OPTIMIZER_DIR


def save_optimizer(model, optimizer, model_path):
    """Each process writes its shards of the optimizer state; every process must call it."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict
    dcp.save({"optimizer": get_optimizer_state_dict(model, optimizer)}, checkpoint_id=optimizer_dir(model_path))


def load_optimizer(model, optimizer, model_path):
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_optimizer_state_dict
    state = {"optimizer": get_optimizer_state_dict(model, optimizer)}
    dcp.load(state, checkpoint_id=optimizer_dir(model_path))
    set_optimizer_state_dict(model, optimizer, state["optimizer"])


def drop_optimizer(model_path):
    shutil.rmtree(optimizer_dir(model_path), ignore_errors=True)


def drop_numbered_optimizers(stem, keep=None):
    """Every STEM-K.optimizer/ but the one of K = keep."""
    for folder in glob.glob(glob.escape(stem) + "-*" + OPTIMIZER_DIR):
        if folder != optimizer_dir(f"{stem}-{keep}"):
            shutil.rmtree(folder, ignore_errors=True)


def has_optimizer(model_path):
    return os.path.isdir(optimizer_dir(model_path))
