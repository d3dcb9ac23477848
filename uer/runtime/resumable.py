"""The resumable state of a run, one format for pre-training and fine-tuning: optimizer, scheduler and gradient
scaler states, every process's RNG states, the flags that must not change (`run`) and the loop's position
(step, and where its data is). The weights go into the state file (fine-tuning's OUTPUT_MODEL_PATH.resume) or
into a model file of their own written after it (pre-training's OUTPUT_MODEL_PATH-STEP beside its .state).
Under --fsdp each process writes its optimizer shards beside the file (STEM.optimizer/), which the state names."""
import os

import torch

from uer.core.errors import RunFailure
from uer.model_saver import atomic_torch_save
from uer.runtime import distributed, sharding
from uer.runtime.training_state import (SUFFIX, save_state, load_state, torch_rng, set_torch_rng, check_same_run,
                                        optimization_state, restore_optimization, latest_checkpoint)


class ResumableState:
    def __init__(self, runtime, model, optimizer, scheduler, identity):
        self.runtime, self.model, self.optimizer, self.scheduler = runtime, model, optimizer, scheduler
        self.identity = identity

    def shards(self, stem):
        """Where the optimizer state is sharded (--fsdp): (model, STEM); else None."""
        return (self.model, stem) if self.runtime.fsdp else None

    def save(self, path, position, weights_path=None, shards_stem=None):
        """Every process calls this (the RNG states are gathered; under --fsdp the weights too, and each writes
        its optimizer shards at shards_stem); the master writes the state to path, then the weights to
        weights_path (None: inside the state, as "model")."""
        runtime = self.runtime
        cpu, cuda = torch_rng(runtime.device)
        rng_cpu, rng_cuda = runtime.gather_all(cpu), runtime.gather_all(cuda)
        weights = runtime.weights(self.model)
        optimization = optimization_state(self.optimizer, self.scheduler, runtime.precision, self.shards(shards_stem))
        if not runtime.is_master:
            return
        state = {**position, "run": self.identity, "rng_cpu": rng_cpu, "rng_cuda": rng_cuda, **optimization}
        if weights_path is None:
            state["model"] = weights
        save_state(path, state)
        if weights_path is not None:
            atomic_torch_save(weights, weights_path)

    def restore(self, path, shards_stem=None, check=None):
        """The state of path into the model (when it holds the weights), optimizer, scheduler, scaler and this
        process's RNG; check(state), when given, runs before anything is restored. Returns the state (its
        position)."""
        state = load_state(path)
        check_same_run(state["run"], self.identity, path)
        if check:
            check(state)
        if "model" in state:
            self.runtime.load_weights(self.model, state["model"])
        written = state["optimizer"].get("sharded")
        if written:  # the state names its shards' folder, beside it
            shards_stem = os.path.join(os.path.dirname(path), written[:-len(sharding.OPTIMIZER_DIR)])
        restore_optimization(state, self.optimizer, self.scheduler, self.runtime.precision, path,
                             self.shards(shards_stem or path))
        set_torch_rng(own(state["rng_cpu"], self.runtime), own(state["rng_cuda"], self.runtime), self.runtime.device)
        return state


class RollingState(ResumableState):
    """One file, `path`, rewritten atomically by the master at every save with the current weights inside, so it
    is always complete (fine-tuning's OUTPUT_MODEL_PATH.resume). Under --fsdp the optimizer's shards of the K-th
    save are in PATH-K.optimizer/, which the file names: the shards a file names are never rewritten, and older
    ones go once the new file is written."""

    def __init__(self, runtime, model, optimizer, scheduler, identity, path):
        super().__init__(runtime, model, optimizer, scheduler, identity)
        self.path, self.saves = path, 0

    def save(self, position):
        """Every process calls this."""
        self.saves += 1
        stem = f"{self.path}-{self.saves}"
        if self.runtime.fsdp and self.runtime.is_master:
            sharding.drop_optimizer(stem)  # left by a run stopped while writing them
        self.runtime.barrier()
        super().save(self.path, {**position, "saves": self.saves}, shards_stem=stem)
        if self.runtime.is_master:
            sharding.drop_numbered_optimizers(self.path, keep=self.saves)
        self.runtime.barrier()

    def restore(self):
        """The saved state (its position), restored; None when there is no file yet."""
        if not os.path.exists(self.path):
            return None
        state = super().restore(self.path)
        self.saves = state.get("saves", 0)
        return state

    def remove(self):
        self.runtime.barrier()  # every process has read it
        if self.runtime.is_master:
            if os.path.exists(self.path):
                os.unlink(self.path)
            sharding.drop_numbered_optimizers(self.path)


def own(states, runtime):
    """This process's entry of a per-process list (a single tensor: a file of one process, as older fine-tuning
    runs wrote it)."""
    return states[runtime.placement.rank] if isinstance(states, (list, tuple)) else states


def checkpoint_to_resume(output_model_path, runtime):
    """(step, model path) of the newest OUTPUT_MODEL_PATH-STEP with its state, or None; every process must see
    the same one (pre-training's --resume)."""
    found = latest_checkpoint(output_model_path)
    if runtime.distributed:
        seen = torch.tensor([found[0] if found else -1], device=runtime.device)  # nccl reduces GPU tensors
        lowest, highest = (distributed.all_reduce_max(t, runtime.placement) for t in (-seen.clone(), seen.clone()))
        if -int(lowest) != int(highest):
            raise RunFailure(f"rank {runtime.placement.rank}: --resume: this node's newest checkpoint of "
                             f"{output_model_path} is step {int(seen)}, another node's is step {int(highest)}; "
                             "keep checkpoints on a filesystem every node shares")
    if found is None and runtime.is_master:
        print(f"--resume: no checkpoint {output_model_path}-STEP with its {SUFFIX} file yet; starting at step 0",
              flush=True)
    return found
