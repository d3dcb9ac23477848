"""How processes are laid out: CPU, one GPU, several processes started by us (--world_size/--gpu_ranks,
one or several nodes) or by torchrun (its environment variables)."""
import os
import re
import sys
import threading
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from uer.core.errors import UserInputError, RunFailure, first_line

joined_group = False  # whether this process joined a process group (see leave)


@dataclass
class Placement:
    rank: int = 0
    world_size: int = 1
    device: str = "cpu"
    init_method: str = ""
    backend: str = ""

    @property
    def distributed(self):
        return self.world_size > 1

    @property
    def is_master(self):
        return self.rank == 0


def is_master_process():
    """Whether this process writes a run's files: rank 0 of its group, or alone."""
    return not dist.is_initialized() or dist.get_rank() == 0


def launched_by_torchrun():
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ


def torchrun_placement(args):
    local = int(os.environ["LOCAL_RANK"])
    cuda = torch.cuda.is_available()
    return Placement(rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]),
                     device=f"cuda:{local}" if cuda else "cpu", init_method="env://",
                     backend=args.backend if cuda else "gloo")


def check_layout(args):
    """Validate --world_size/--gpu_ranks/--backend; returns the number of local processes to start."""
    cuda = torch.cuda.is_available()
    if args.world_size < 1:
        raise UserInputError("--world_size must be at least 1")
    if args.world_size == 1 and len(args.gpu_ranks) <= 1:
        if args.gpu_ranks and not cuda:
            raise UserInputError(f"--gpu_ranks {args.gpu_ranks[0]} asks for a GPU but CUDA is not available; "
                                 "drop --gpu_ranks to train on the CPU")
        if args.gpu_ranks and args.gpu_ranks[0] >= torch.cuda.device_count():
            raise UserInputError(f"--gpu_ranks {args.gpu_ranks[0]}: only {torch.cuda.device_count()} GPU(s) visible")
        return 0
    if not args.gpu_ranks:
        raise UserInputError(f"--world_size {args.world_size} needs --gpu_ranks: the global ranks of the "
                             "processes to start on this node")
    bad = [r for r in args.gpu_ranks if not 0 <= r < args.world_size]
    if bad or len(set(args.gpu_ranks)) != len(args.gpu_ranks):
        raise UserInputError(f"--gpu_ranks {args.gpu_ranks} must be distinct ranks in 0..{args.world_size - 1}")
    if len(args.gpu_ranks) > args.world_size:
        raise UserInputError("more --gpu_ranks than --world_size")
    if cuda and len(args.gpu_ranks) > torch.cuda.device_count():
        raise UserInputError(f"{len(args.gpu_ranks)} processes requested on this node but only "
                             f"{torch.cuda.device_count()} GPU(s) are visible (CUDA_VISIBLE_DEVICES)")
    if not cuda and args.backend == "nccl":
        raise UserInputError("--backend nccl needs CUDA GPUs; without them use --backend gloo "
                             "(processes then run on the CPU)")
    return len(args.gpu_ranks)


def local_placement(args, proc_index):
    """Placement of the proc_index-th process started on this node."""
    cuda = torch.cuda.is_available()
    if args.world_size == 1 and len(args.gpu_ranks) <= 1:
        device = f"cuda:{args.gpu_ranks[0]}" if args.gpu_ranks else "cpu"
        return Placement(device=device)
    return Placement(rank=args.gpu_ranks[proc_index], world_size=args.world_size,
                     device=f"cuda:{proc_index}" if cuda else "cpu", init_method=args.master_ip,
                     backend=args.backend)


def init(placement, timeout_s=600):
    """Join the process group; a port already in use, a peer that never comes or an address that does not
    answer ends this process with a one-line RunFailure within about timeout_s (a watchdog covers the cases
    where torch itself would wait forever, e.g. a foreign program listening on the master port)."""
    if placement.device.startswith("cuda"):
        torch.cuda.set_device(torch.device(placement.device))
    if not placement.distributed:
        return
    where = f"rank {placement.rank}: cannot join the {placement.world_size}-process group at {placement.init_method}"
    watchdog = threading.Timer(timeout_s + 15, _abort, args=(f"{where} within {timeout_s} s (--dist_timeout): "
                                                             "no answer from the master address",))
    watchdog.daemon = True
    watchdog.start()
    global joined_group
    try:
        dist.init_process_group(backend=placement.backend, init_method=placement.init_method,
                                world_size=placement.world_size, rank=placement.rank,
                                timeout=timedelta(seconds=timeout_s))
        joined_group = True
    except dist.DistError as e:
        raise RunFailure(f"{where}: {explain(e, timeout_s)}") from None
    finally:
        watchdog.cancel()


def explain(error, timeout_s):
    text = first_line(error)
    if "EADDRINUSE" in text:
        return "the port is already in use by another program; choose a free port in --master_ip"
    if "waiting for clients" in text:
        return (f"{text.split('. ')[-1].rstrip('.')} within {timeout_s} s (--dist_timeout); start every node with "
                "the same --world_size and --master_ip, each with its own --gpu_ranks")
    if "timed out" in text.lower():
        return f"no answer within {timeout_s} s (--dist_timeout); is rank 0 running and --master_ip reachable?"
    return text


def _abort(message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    os._exit(1)


def is_peer_failure(error):
    """Whether a failed collective means another process or the network is gone (not a bug of ours)."""
    return isinstance(error, dist.DistError) or any(
        word in str(error) for word in ("Connection closed by peer", "Connection reset by peer", "Broken pipe",
                                        "Gloo", "NCCL", "Timed out", "timed out"))


def lost_peer(error, placement):
    """RunFailure for a collective that failed because another process died or the network broke."""
    text = re.sub(r"^\[[^\]]*\]\s*", "", first_line(error)).split(". This is typically")[0]
    return RunFailure(f"rank {placement.rank}: lost contact with the other training processes ({text}); "
                      "a process crashed or the network failed, see the other processes' messages")


def all_reduce_max(tensor, placement):
    if placement.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return tensor


def all_gather(tensor, placement):
    """[tensor of rank 0, rank 1, ...] (same shape on every rank), as CPU tensors."""
    if not placement.distributed:
        return [tensor.cpu()]
    device = torch.device(placement.device)
    parts = [torch.empty_like(tensor, device=device) for _ in range(placement.world_size)]
    dist.all_gather(parts, tensor.to(device))
    return [p.cpu() for p in parts]


def all_gather_rows(tensor, placement):
    """Every rank's tensor (same shape) concatenated along dim 0, in rank order; the gradient of each part flows
    back to the rank it came from."""
    if not placement.distributed:
        return tensor
    from torch.distributed._functional_collectives import all_gather_single_autograd
    return all_gather_single_autograd(tensor.contiguous(), 0, dist.group.WORLD)


def all_reduce_sum(tensor, placement):
    if placement.distributed:
        dist.all_reduce(tensor)
    return tensor


def leave(status):
    """End a process that joined a process group, its output flushed, without the interpreter's teardown: the
    C++ teardown of a finished gloo group (std::thread destructors at exit) has been seen to abort a process
    that had completed every step (about 1 run in 10 of a 2-process torchrun), which its launcher then reports
    as a crash."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def shutdown(placement):
    if placement.distributed and dist.is_initialized():
        dist.destroy_process_group()
