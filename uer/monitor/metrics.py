"""The metrics file (always) and TensorBoard curves (--tensorboard_dir) of a run.

The file holds one JSON object per report or evaluation: {"split": "train"|"dev"|"test", "step": ..., every
figure printed, "time": unix seconds}. A resumed run keeps the records up to the step it resumes from and
appends after them, so no step appears twice; a new run starts the file afresh, and a run that logs nothing
leaves none.
"""
import json
import math
import os
import time

from uer.core.errors import UserInputError

TENSORBOARD_MISSING = ("--tensorboard_dir needs the tensorboard package (torch's SummaryWriter writes the event "
                       "files): pip install tensorboard")
AXES = ("split", "step", "epoch", "time")


def default_metrics_path(args):
    return args.metrics_path or args.output_model_path + ".metrics.jsonl"


def summary_writer_class():
    """torch's SummaryWriter, or a one-line error naming the package to install (call it before training)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UserInputError(TENSORBOARD_MISSING) from None
    return SummaryWriter


def read_metrics(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def keep_until(path, step):
    """Drop the records after `step` (a resumed run writes them again); atomically."""
    if not os.path.exists(path):
        return
    kept = [r for r in read_metrics(path) if r.get("step", 0) <= step]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in kept)
    os.replace(tmp, path)


class MetricsLog:
    """enabled=False (processes other than the master) writes nothing. resume_step: the step a resumed run
    continues from (None: a new run)."""

    def __init__(self, path, tensorboard_dir=None, resume_step=None, enabled=True):
        self.path, self.file, self.tensorboard = None, None, None
        if not enabled:
            return
        if tensorboard_dir:
            self.tensorboard = summary_writer_class()(
                log_dir=tensorboard_dir, purge_step=None if resume_step is None else resume_step + 1)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if resume_step is not None:
            keep_until(path, resume_step)
        elif os.path.exists(path):
            os.unlink(path)  # an earlier run's records; the file is made again by the first record
        self.path = path

    def log(self, split, figures):
        """Append one record; figures holds "step" and the numbers to write."""
        if self.path is None:
            return
        if self.file is None:
            self.file = open(self.path, "a", encoding="utf-8")
        record = {"split": split, **figures, "time": round(time.time(), 3)}
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        if self.tensorboard is not None:
            for key, value in figures.items():
                if key not in AXES and isinstance(value, (int, float)) and math.isfinite(value):
                    self.tensorboard.add_scalar(f"{split}/{key}", value, figures["step"])
            self.tensorboard.flush()

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
