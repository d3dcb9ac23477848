import glob
import os
import tempfile
from contextlib import contextmanager


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_open(path, mode="wb"):
    """Open a temporary file beside `path` for writing ("wb", or "w" for UTF-8 text); on success fsync and
    rename it to `path`.

    Readers (and a crash at any moment) see either the old file or the complete new one, never a partial one.
    The temporary name carries the writer's pid, so temporary files of writers that were killed (kill -9, power
    loss) are removed by the next successful write of the same path.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    prefix = f"{os.path.basename(path)}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    remove_orphans(directory, os.path.basename(path))


def remove_orphans(directory, name):
    """Delete NAME.PID.*.tmp files whose writing process no longer exists."""
    for tmp in glob.glob(os.path.join(glob.escape(directory), glob.escape(name) + ".*.tmp")):
        pid = os.path.basename(tmp)[len(name) + 1:].split(".")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
