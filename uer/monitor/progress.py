"""Progress bars for every place a person waits, on stderr.

On a terminal: tqdm's bar, redrawn in place. Elsewhere (CI, nohup, a pipe): a plain line each time another
PLAIN_PERCENT of the work is done (or every PLAIN_SECONDS when the total is unknown), so logs stay readable;
nothing for work done within PLAIN_DELAY seconds (a bad input then still gets its one line of error).
"""
import sys
import time

from tqdm import tqdm

PLAIN_PERCENT = 5
PLAIN_SECONDS = 30
PLAIN_DELAY = 1.0
PLAIN_FORMAT = "{desc}: {percentage:3.0f}% {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
PLAIN_FORMAT_NO_TOTAL = "{desc}: {n_fmt} [{elapsed}, {rate_fmt}{postfix}]"
quiet = False  # True in the processes of a team that are not its master: no bars at all


class PlainLines(tqdm):
    """tqdm that prints whole lines at milestones instead of redrawing one."""

    def __init__(self, *args, plain_delay=PLAIN_DELAY, **kwargs):
        self._next_percent, self._last_line = PLAIN_PERCENT, time.monotonic()
        self._printed_n, self._quiet_until = None, time.monotonic() + plain_delay
        super().__init__(*args, **kwargs)

    def clear(self, nolock=False):
        pass  # nothing is drawn in place, so nothing to erase before tqdm.write's line

    def display(self, msg=None, pos=None):
        """Print a line if a milestone was passed. Returns False for close()'s clearing call (msg ''), so that
        it writes no carriage return: this class is made with leave=False and its last line stays."""
        if self.n == self._printed_n:
            return msg != ""
        if self.total:
            percent = 100 * self.n / self.total
            due = percent >= self._next_percent or self.n >= self.total
            if due:
                self._next_percent = (int(percent) // PLAIN_PERCENT + 1) * PLAIN_PERCENT
        else:
            due = time.monotonic() - self._last_line >= PLAIN_SECONDS
        if due and self.n and time.monotonic() >= self._quiet_until:
            self._printed_n, self._last_line = self.n, time.monotonic()
            fmt = PLAIN_FORMAT if self.total else PLAIN_FORMAT_NO_TOTAL
            self.fp.write(self.format_meter(**dict(self.format_dict, bar_format=fmt)) + "\n")
            self.fp.flush()
        return msg != ""


def progress(iterable=None, total=None, desc="", unit="it", disable=False, unit_scale=False, file=None,
             initial=0, plain_delay=PLAIN_DELAY):
    """A progress bar over `iterable` (or updated by hand with .update(n)); disable=True for non-master
    processes; plain_delay: seconds of work before the first plain line off a terminal."""
    file = file or sys.stderr
    kwargs = dict(iterable=iterable, total=total, desc=desc, unit=unit, disable=disable or quiet, unit_scale=unit_scale,
                  file=file, initial=initial)
    # smoothing=0: the rate shown is the work done over the time taken; tqdm's moving average is of the updates
    # that happened to be drawn, and showed 25 kB/s for 112 kB tokenized in 0.9 s
    if hasattr(file, "isatty") and file.isatty():
        return tqdm(dynamic_ncols=True, leave=True, smoothing=0, **kwargs)
    return PlainLines(mininterval=0.5, leave=False, smoothing=0, plain_delay=plain_delay, **kwargs)


def write(line, file=None):
    """Print a line without breaking a bar being drawn (report lines go to stdout, bars to stderr)."""
    tqdm.write(line, file=file or sys.stdout)
    (file or sys.stdout).flush()
