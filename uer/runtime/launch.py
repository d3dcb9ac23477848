"""Starting the processes of a pre-training run: one (CPU or one GPU), those of --world_size/--gpu_ranks on this
node (spawned here; SIGINT/SIGTERM passed on to them), or this one process of torchrun's."""
import sys

from uer.core.errors import UserInputError, RunFailure
from uer.runtime import distributed
from uer.runtime.runtime import Runtime
from uer.runtime.signals import ForwardSignals


def launch(args, train):
    """Runs train(args, runtime) in every process this node should start; returns the signal number that
    stopped training early, or 0."""
    local_procs = distributed.check_layout(args) if not distributed.launched_by_torchrun() else 1
    if local_procs <= 1:
        return worker(0, args, train)
    import torch.multiprocessing as mp
    context = mp.spawn(worker, args=(args, train, local_procs), nprocs=local_procs, join=False)
    with ForwardSignals(context.processes) as forwarded:
        try:
            while not context.join():
                pass
        except mp.ProcessExitedException as e:
            raise RunFailure(describe_exit(e, args)) from None
    return forwarded.signum


def worker(proc_index, args, train, local_procs=1):
    """Entry point of one training process (also the single-process case)."""
    if distributed.launched_by_torchrun():
        placement = distributed.torchrun_placement(args)
    else:
        placement = distributed.local_placement(args, proc_index)
    if local_procs > 1:
        return _child(placement, args, train, local_procs)
    return _run(placement, args, train, local_procs)


def _run(placement, args, train, local_procs):
    runtime = Runtime.for_process(args, placement, local_procs)
    distributed.init(placement, args.dist_timeout)
    try:
        return train(args, runtime)
    finally:
        distributed.shutdown(placement)


def _child(placement, args, train, local_procs):
    """A process started by launch(): errors end it with one line and an exit status, not a traceback; it
    leaves through distributed.leave once its work is saved."""
    status = 0
    try:
        _run(placement, args, train, local_procs)
    except (UserInputError, RunFailure) as e:
        print(f"error: {e}", file=sys.stderr)
        status = 2 if isinstance(e, UserInputError) else 1
    distributed.leave(status)


def describe_exit(e, args):
    rank = args.gpu_ranks[e.error_index]
    how = f"was killed by {e.signal_name}" if e.signal_name else f"exited with status {e.exit_code}"
    return f"training process of rank {rank} {how}; the other processes of this node were stopped"
