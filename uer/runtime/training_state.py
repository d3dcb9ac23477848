"""What --resume needs besides the model weights: optimizer, scheduler, gradient scaler, step, data position
and random number generator states. Written as a torch file of tensors and plain values (read back with
weights_only=True: no pickle code runs), atomically, beside the checkpoint it belongs to."""
import glob
import os
import re

import numpy as np
import torch

from uer.model_loader import safe_torch_load
from uer.model_saver import atomic_torch_save
from uer.core.errors import UserInputError
from uer.runtime import sharding

SUFFIX = ".state"


def state_path(model_path):
    return model_path + SUFFIX


def save_state(path, state):
    atomic_torch_save(state, path)


def load_state(path):
    state = safe_torch_load(path, "training state")
    if not isinstance(state, dict) or "step" not in state:
        raise UserInputError(f"{path}: not a training state written by this project")
    return state


def torch_rng(device):
    """This process's torch generator states: CPU, and the GPU's when training on one."""
    device = torch.device(device)
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.zeros(0, dtype=torch.uint8)
    return torch.get_rng_state(), cuda


def set_torch_rng(cpu, cuda, device):
    torch.set_rng_state(cpu)
    device = torch.device(device)
    if device.type == "cuda" and cuda.numel():
        torch.cuda.set_rng_state(cuda, device)


def optimization_state(optimizer, scheduler, precision, shards=None):
    """Optimizer, scheduler and scaler states. shards: (sharded model, checkpoint path) under --fsdp: every
    process must call this, each writes its optimizer shards beside the checkpoint, and the state names them."""
    if shards:
        sharding.save_optimizer(shards[0], optimizer, shards[1])
        optimizer_state = {"sharded": os.path.basename(sharding.optimizer_dir(shards[1]))}
    else:
        optimizer_state = optimizer.state_dict()
    return {"optimizer": optimizer_state, "scheduler": scheduler.state_dict(),
            "scaler": precision.scaler.state_dict()}


def restore_optimization(state, optimizer, scheduler, precision, where, shards=None):
    """Inverse of optimization_state (a disabled gradient scaler saved an empty dict); `where`: the state
    file, for the messages refusing a --fsdp state without --fsdp and the other way round."""
    written_sharded = "sharded" in state["optimizer"]
    if shards and not (written_sharded and sharding.has_optimizer(shards[1])):
        raise UserInputError(f"{where}: written without --fsdp (or its {sharding.optimizer_dir(shards[1])} is "
                             "missing); resume with the flags of the stopped run")
    if written_sharded and not shards:
        raise UserInputError(f"{where}: written by a --fsdp run; resume with --fsdp")
    if shards:
        sharding.load_optimizer(shards[0], optimizer, shards[1])
    else:
        optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if state["scaler"]:
        precision.scaler.load_state_dict(state["scaler"])


def numpy_rng_state(rng):
    """A numpy Generator's state with its 128-bit integers as strings (plain values only in state files)."""
    state = rng.bit_generator.state
    return {"bit_generator": state["bit_generator"], "state": {k: str(v) for k, v in state["state"].items()},
            "has_uint32": state["has_uint32"], "uinteger": state["uinteger"]}


def numpy_rng_from(saved):
    rng = np.random.default_rng()
    rng.bit_generator.state = dict(saved, state={k: int(v) for k, v in saved["state"].items()})
    return rng


def check_same_run(saved, current, path):
    """Refuse to resume when a flag that decides what the run computes differs from the stopped run's."""
    differ = [f"{k} {saved[k]!r} (now {current[k]!r})" for k in current if k in saved and saved[k] != current[k]]
    if differ:
        raise UserInputError(f"{path}: cannot resume: the stopped run had {', '.join(differ)}; resume with the "
                             "same flags (or start a new run without --resume)")


def checkpoints(output_model_path):
    """[(step, model path)] of OUTPUT_MODEL_PATH-STEP checkpoints that have their training state."""
    pattern = re.compile(re.escape(output_model_path) + r"-(\d+)" + re.escape(SUFFIX) + "$")
    found = []
    for path in glob.glob(glob.escape(output_model_path) + "-*" + SUFFIX):
        m = pattern.match(path)
        if m and os.path.exists(path[:-len(SUFFIX)]):
            found.append((int(m.group(1)), path[:-len(SUFFIX)]))
    return sorted(found)


def drop_older_states(output_model_path, step):
    """Training states are large (2x the model for AdamW): once checkpoint `step` is complete, the older
    ones are not needed (their model files stay; under --fsdp their optimizer shards go too)."""
    for older, model_path in checkpoints(output_model_path):
        if older < step:
            os.unlink(state_path(model_path))
            sharding.drop_optimizer(model_path)


def latest_checkpoint(output_model_path):
    """(step, model path) of the newest OUTPUT_MODEL_PATH-STEP that has its training state, or None.

    The state is written before the model, and each file atomically, so a pair where both exist is complete.
    """
    found = checkpoints(output_model_path)
    return found[-1] if found else None
