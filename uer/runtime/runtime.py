"""The one runtime under pre-training, fine-tuning and the scripts that predict. The model stays plain; a Runtime
places it (CPU, one GPU, DataParallel over the visible GPUs, DDP or FSDP2 over processes), sets its precision,
recomputes its layers in backward, adapts it with LoRA and compiles it, all from outside; and it does what the
processes of a run do together (each a share of every batch, the loss normalised over all of them, evaluation
split and gathered, the master writing every file). With one process the collective parts are no-ops."""
import contextlib
import os
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

from uer.core.errors import UserInputError
from uer.model_builder import units_to_shard
from uer.model_loader import load_model, safe_torch_load
from uer.model_saver import unwrap, cpu_state_dict, atomic_torch_save
from uer.monitor import progress
from uer.monitor.metrics import MetricsLog, default_metrics_path
from uer.runtime import distributed, sharding
from uer.runtime.adapters import adapt_pretrained, load_adapters
from uer.runtime.compile import compile_model
from uer.runtime.distributed import Placement
from uer.runtime.memory import keep_freed_memory
from uer.runtime.precision import Precision
from uer.runtime.recompute import recompute_layers_in_backward


def place(model, parallel=True):
    """(model, device) for prediction: on the first GPU, replicated over all visible GPUs (CUDA_VISIBLE_DEVICES
    scopes them) unless parallel is False (for callers that use more than forward()), or on the CPU."""
    runtime = Runtime.alone(data_parallel=parallel)
    return runtime.place(model), runtime.device


class Runtime:
    """args: the run's flags (precision, compile, LoRA, checkpointing, --fsdp); None for prediction."""

    def __init__(self, placement, args=None, fsdp=False, data_parallel=False):
        self.placement, self.args, self.fsdp, self.data_parallel = placement, args, fsdp, data_parallel
        self.device = torch.device(placement.device)
        self.precision = None  # set by place(): --fp16's choice on this device
        self.share_sizes = [0]  # of the batch being trained on, per process (share())

    @classmethod
    def alone(cls, args=None, data_parallel=True):
        """One process: the first GPU (and DataParallel over the others) or the CPU."""
        return cls(Placement(device="cuda:0" if torch.cuda.is_available() else "cpu"), args,
                   data_parallel=data_parallel)

    @classmethod
    def for_process(cls, args, placement, local_procs=1):
        """A pre-training process of `local_procs` on this node (pretrain.py starts them, or torchrun)."""
        if placement.device == "cpu" and local_procs > 1:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_procs))
        if args.fsdp and not placement.distributed:
            raise UserInputError("--fsdp shards the model over several processes; with one, drop it (or start "
                                 "several: --world_size/--gpu_ranks, or torchrun)")
        return cls(placement, args, args.fsdp)

    @classmethod
    def for_fine_tuning(cls, args):
        """The torchrun group this process was started in (joined on first use: a cross-validation trains
        several models), or this process alone."""
        fsdp = getattr(args, "fsdp", False)
        if not distributed.launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
            if fsdp:
                raise UserInputError("--fsdp shards the model over several processes; start them with torchrun "
                                     "--nproc_per_node N (or drop --fsdp)")
            return cls.alone(args)
        placement = distributed.torchrun_placement(args)
        if not dist.is_initialized():
            join_fine_tuning(placement, args, fsdp)
        return cls(placement, args, fsdp)

    @property
    def distributed(self):
        return self.placement.distributed

    @property
    def size(self):
        return self.placement.world_size

    @property
    def is_master(self):
        return self.placement.is_master

    # --- the model: built, prepared and placed from outside

    def build(self, make_model, seed):
        """make_model() after seeding (so --seed fixes the initial weights), under --fsdp for real only on the
        master (the others build on meta and get their shards of the master's weights when placed)."""
        torch.manual_seed(seed)
        with sharding.building_device(self.placement) if self.fsdp else contextlib.nullcontext():
            return make_model()

    def prepare(self, model, ignore_prefixes=()):
        """--gradient_checkpointing, then --pretrained_model_path's weights (those under ignore_prefixes
        excepted), then --use_lora's adapters; returns load_model's report, or None."""
        args = self.args
        if getattr(args, "gradient_checkpointing", False):
            recompute_layers_in_backward(model)
        loaded = None
        if args.pretrained_model_path:
            loaded = load_model(model, args.pretrained_model_path, ignore_prefixes=ignore_prefixes)
            getattr(model, "pretrained_loaded", lambda: None)()  # a model may start parts of it from the others
        if getattr(args, "use_lora", False):
            trained = adapt_pretrained(model, args, loaded, ignore_prefixes)
            total = sum(p.numel() for p in model.parameters())
            if self.is_master:
                print(f"LoRA: {trained:,} of {total:,} weights train ({100 * trained / total:.2f}%): the adapters "
                      f"(r {args.lora_r}) and the task head", file=sys.stderr, flush=True)
        return loaded

    def place(self, model):
        """The model on this process's device, wrapped to train together (FSDP units, DDP, or DataParallel
        over one process's GPUs), then compiled with --compile."""
        args = self.args
        if self.device.type == "cpu" and not self.fsdp:
            keep_freed_memory()
        if args is not None:
            self.precision = Precision(args.fp16, args.fp16_opt_level, self.device)
        if self.fsdp:
            model = sharding.shard(model, units_to_shard(model, args), self.placement, self.precision)
        else:
            model.to(self.device)
            model = self.replicated(model)
        if getattr(args, "compile", False):  # after sharding: FSDP's hooks are part of what is compiled
            compile_model(unwrap(model), self.device)
        return model

    def replicated(self, model):
        if self.distributed:
            cuda = self.device.type == "cuda"
            return DistributedDataParallel(model, device_ids=[self.device.index] if cuda else None,
                                           find_unused_parameters=getattr(model, "leaves_parameters_unused", False))
        if self.device.type != "cuda" or not self.data_parallel:
            return model
        if torch.cuda.device_count() > 1:
            print(f"using {torch.cuda.device_count()} GPUs", file=sys.stderr)
            return nn.DataParallel(model)
        print(f"running on GPU {torch.cuda.get_device_name(self.device)}", file=sys.stderr)
        return model

    def metrics(self, resume_step=None):
        """The run's metrics file (and --tensorboard_dir's curves), written by the master; resume_step: the step
        a resumed run continues from (None: a new run)."""
        return MetricsLog(default_metrics_path(self.args), self.args.tensorboard_dir, resume_step,
                          enabled=self.is_master)

    # --- what the processes do together

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

    def normalized_parts(self, parts):
        """Pre-training's loss: the sum of the target parts' means, each over its count in all processes, times
        the number of processes (DDP averages gradients over them): exactly the gradient of the loss over the
        whole global batch, whatever way it is split."""
        counts = torch.stack([p["count"] for p in parts.values()]).float()
        if self.distributed:
            counts = distributed.all_reduce_sum(counts.clone(), self.placement)
        losses = [p["loss_sum"] / c.clamp(min=1) for p, c in zip(parts.values(), counts)]
        return torch.stack(losses).sum() * self.size

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

    def stop_agreed(self, stop):
        """The signal number any process received (0: none), the same on every process."""
        return stop.agreed(self.placement, self.device)

    def gather_all(self, tensor):
        return distributed.all_gather(tensor, self.placement)

    def barrier(self):
        if self.distributed:
            dist.barrier()

    # --- weights in and out

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


def join_fine_tuning(placement, args, fsdp):
    """Join torchrun's group; the master prints how the run is split, the others print no reports."""
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
