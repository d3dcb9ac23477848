"""SIGINT/SIGTERM during training: finish the current step, write a checkpoint, exit with 128 + signal."""
import os
import signal
import sys
import threading
import time

import torch

from uer.runtime import distributed

FORCE_AFTER_S = 2.0


SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Handlers:
    """Context manager that routes SIGINT and SIGTERM to self._handle (main thread only), then restores the
    previous handlers; `signum` is the first signal received (0: none)."""

    def __init__(self):
        self.signum, self.previous = 0, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, *exc):
        for s, handler in self.previous.items():
            signal.signal(s, handler)

    def _handle(self, signum, frame):
        raise NotImplementedError


class StopSignals(Handlers):
    """While active, SIGINT and SIGTERM ask training to stop at the next step boundary instead of killing the
    process. A second Ctrl+C more than FORCE_AFTER_S after the first interrupts at once (signals forwarded by
    a launcher arrive together with the user's, so they never count as a second one)."""

    first_at = 0.0

    def _handle(self, signum, frame):
        now = time.monotonic()
        if self.signum and signum == signal.SIGINT and now - self.first_at > FORCE_AFTER_S:
            raise KeyboardInterrupt
        if not self.signum:
            self.signum, self.first_at = signum, now
            print(f"received {signal.Signals(signum).name}: stopping after this step and writing a checkpoint "
                  f"(Ctrl+C again to quit at once)", file=sys.stderr, flush=True)

    def agreed(self, placement, device):
        """The signal number any process received (0: none); every process of the run gets the same answer,
        so they all stop at the same step."""
        if not placement.distributed:
            return self.signum
        flag = torch.tensor([self.signum], dtype=torch.int64, device=device)
        return int(distributed.all_reduce_max(flag, placement).item())


class ForwardSignals(Handlers):
    """In a launcher process: pass SIGINT/SIGTERM on to the child processes (whose StopSignals then stop
    training cleanly) and remember the first one."""

    def __init__(self, processes):
        super().__init__()
        self.processes = processes

    def _handle(self, signum, frame):
        self.signum = self.signum or signum
        for p in self.processes:
            if p.is_alive():
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
