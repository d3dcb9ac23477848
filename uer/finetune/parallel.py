"""Fine-tuning over the processes torchrun starts: DDP (or --fsdp), each process a contiguous share of every
batch (the batch of --batch_size x processes examples that one process would take), evaluation split over the
processes and gathered, and the master writing every file. With one process everything here is a no-op."""
import contextlib
import os
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from uer.runtime.adapters import load_adapters
from uer.model_builder import units_to_shard
from uer.model_loader import load_model, safe_torch_load
from uer.model_saver import unwrap, cpu_state_dict, atomic_torch_save
from uer.core.errors import UserInputError
from uer.monitor import progress
from uer.runtime import distributed, sharding
from uer.runtime.distributed import Placement


class Team:
    """The processes of one fine-tuning run and what they do together (current(): the one this process is in)."""

    def __init__(self, placement, fsdp=False):
        self.placement, self.fsdp = placement, fsdp
        self.share_sizes = [0]  # of the batch being trained on, per process (share())

    @classmethod
    def join(cls, args):
        """This process's team: the torchrun group it was started in (joined here, once per process: a
        cross-validation trains several models), or itself alone."""
        fsdp = getattr(args, "fsdp", False)
        if _current.distributed:
            return _current
        if not distributed.launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
            if fsdp:
                raise UserInputError("--fsdp shards the model over several processes; start them with torchrun "
                                     "--nproc_per_node N (or drop --fsdp)")
            return _joined(cls(Placement()))
        placement = distributed.torchrun_placement(args)
        if placement.device == "cpu":
            local = int(os.environ.get("LOCAL_WORLD_SIZE", placement.world_size))
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // local))
        distributed.init(placement, args.dist_timeout)
        if placement.is_master:
            how = "sharded (--fsdp)" if fsdp else "DDP"
            print(f"fine-tuning in {placement.world_size} processes, {how}, on {placement.device.split(':')[0]} "
                  f"({placement.backend}): each takes its share of every batch of --batch_size x "
                  f"{placement.world_size}", file=sys.stderr, flush=True)
        else:
            sys.stdout = open(os.devnull, "w")  # the master prints the reports; errors still reach stderr
            progress.quiet = True
        return _joined(cls(placement, fsdp))

    @property
    def distributed(self):
        return self.placement.distributed

    @property
    def size(self):
        return self.placement.world_size

    @property
    def is_master(self):
        return self.placement.is_master

    def building_device(self):
        """Where this process builds the model (under --fsdp only the master does, the others on meta)."""
        return sharding.building_device(self.placement) if self.fsdp else contextlib.nullcontext()

    def wrap(self, model, args, precision):
        """model moved to this process's device and wrapped for training together: FSDP units or DDP."""
        if self.fsdp:
            return sharding.shard(model, units_to_shard(model, args), self.placement, precision)
        device = torch.device(self.placement.device)
        model.to(device)
        if not self.distributed:
            return model
        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                       find_unused_parameters=getattr(model, "leaves_parameters_unused", False))

    def share(self, indices):
        """(this process's contiguous part of a batch, whether it holds examples): a process left without any
        (a last batch smaller than the team) runs the first example with weight 0, as each must take part."""
        if not self.distributed:
            return indices, True
        bounds = [len(indices) * r // self.size for r in range(self.size + 1)]
        self.share_sizes = [b - a for a, b in zip(bounds, bounds[1:])]
        part = indices[bounds[self.placement.rank]:bounds[self.placement.rank + 1]]
        return (part, True) if len(part) else (indices[:1], False)

    def normalize(self, loss, count):
        """(loss to back-propagate, the whole batch's mean loss to report). `loss` is the mean over `count` items
        (examples or tokens) of this process's share; DDP averages gradients over processes, so the share's
        weight is count / (all processes' count) x processes: the gradient is that of the whole batch's mean."""
        if not self.distributed:
            return loss, loss.detach()
        sums = torch.stack([torch.as_tensor(count, dtype=torch.float32, device=loss.device),
                            loss.detach().float() * count])
        total_count, total_loss = distributed.all_reduce_sum(sums, self.placement).unbind()
        return loss * (count / total_count.clamp(min=1) * self.size), total_loss / total_count.clamp(min=1)

    def whole_batch(self, rows):
        """(the rows of every process's share of the batch being trained on, in rank order, gradients flowing back
        to the process each came from; where this process's rows start in them): for a loss over the whole batch,
        such as SimCSE's in-batch negatives. A process without examples adds none (its own row starts at 0)."""
        if not self.distributed:
            return rows, 0
        longest, rank = max(self.share_sizes), self.placement.rank
        padded = torch.cat([rows, rows.new_zeros((longest - len(rows),) + rows.shape[1:])])
        parts = distributed.all_gather_rows(padded, self.placement).split(longest)
        start = sum(self.share_sizes[:rank]) if self.share_sizes[rank] else 0
        return torch.cat([part[:n] for part, n in zip(parts, self.share_sizes)]), start

    def evaluation_share(self, batches):
        return batches[self.placement.rank::self.size] if self.distributed else batches

    def gathered(self, rows):
        """rows (None where another process predicted) completed with every process's predictions."""
        if not self.distributed:
            return rows
        parts = [None] * self.size
        dist.all_gather_object(parts, rows)
        return [next((p[i] for p in parts if p[i] is not None), None) for i in range(len(rows))]

    @contextlib.contextmanager
    def evaluating(self, model):
        """The model to run evaluation with: without the DDP wrapper (whose forward may communicate, and the
        processes run different numbers of batches), or, under --fsdp, with every unit's full weights gathered
        once beforehand so that no forward communicates (generation runs a different number of steps per
        process)."""
        if not self.fsdp:
            yield model.module if isinstance(model, DistributedDataParallel) else model
            return
        units = [m for m in model.modules() if hasattr(m, "set_reshard_after_forward")]
        for unit in units:
            unit.set_reshard_after_forward(False, recurse=False)
            unit.unshard()
        try:
            yield model
        finally:
            for unit in units:
                unit.reshard()
                unit.set_reshard_after_forward(unit is not model, recurse=False)  # the root's is False in FSDP2

    def weights(self, model):
        """The full state dict on the master's CPU, {} on the others (every process must call this)."""
        if self.fsdp:
            return sharding.full_state_dict(model)
        return cpu_state_dict(model) if self.is_master else {}

    def save(self, model, path):
        """The master writes the model's weights to path (every process calls this; they wait for the file)."""
        weights = self.weights(model)
        if self.is_master:
            atomic_torch_save(weights, path)
        self.barrier()

    def load(self, model, path):
        """Weights of a file this run wrote, into every process's model (or its shards)."""
        if self.fsdp:
            self.load_weights(model, safe_torch_load(path, "model"))
        elif hasattr(unwrap(model), "saved_keys"):
            load_adapters(unwrap(model), path)
        else:
            load_model(unwrap(model), path)

    def load_weights(self, model, weights):
        """A full state dict (every process has it) into the model, or into this process's shards of it."""
        if self.fsdp:
            sharding.load_full_state_dict(model, weights)
        else:  # a model with adapters saves (and gets back) only what trains
            unwrap(model).load_state_dict(weights, strict=not hasattr(unwrap(model), "saved_keys"))

    def gather_all(self, tensor):
        return distributed.all_gather(tensor, self.placement)

    def barrier(self):
        if self.distributed:
            dist.barrier()


_current = Team(Placement())


def _joined(team):
    global _current
    _current = team
    return team


def current():
    """The team of this process (alone, unless a FineTuner joined a torchrun group)."""
    return _current
