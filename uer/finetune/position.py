"""Where a fine-tuning run is in its epochs, and that position as the resumable state saves it."""
import math

import numpy as np

from uer.runtime.training_state import numpy_rng_from


class Position:
    """Where training is: epoch (1-based), batches of it done, optimizer steps, best dev score so far, and the
    generator that orders the batches."""

    def __init__(self, rng, epoch=1, batch=0, step=0, best=-math.inf):
        self.rng, self.epoch, self.batch, self.step, self.best = rng, epoch, batch, step, best


def identity(args, runtime, train_examples):
    """What must not change between a stopped fine-tuning run and its resumption."""
    return {"batch_size": args.batch_size, "seed": args.seed, "train_examples": train_examples,
            "processes": runtime.size, "fsdp": runtime.fsdp, "optimizer": args.optimizer,
            "scheduler": args.scheduler, "use_lora": args.use_lora}


def resumed_position(resume, seed):
    """Where the run of resume.path stopped, or the start when it wrote none."""
    state = resume.restore()
    if state is None:
        print(f"--resume: no {resume.path} yet; starting at epoch 1", flush=True)
        return Position(np.random.default_rng(seed))
    print(f"resuming from {resume.path}: epoch {state['epoch']}, step {state['step']}", flush=True)
    return Position(numpy_rng_from(state["epoch_rng"]), state["epoch"], state["batch"], state["step"], state["best"])


def saved_position(at, epoch_rng, batch):
    return {"step": at.step, "epoch": at.epoch, "batch": batch, "epoch_rng": epoch_rng, "best": at.best}
