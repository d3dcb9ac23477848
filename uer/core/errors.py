class UserInputError(Exception):
    """A problem with something the user gave us (file, flag, config).

    Scripts print the message on one line and exit 2, without a traceback.
    """


class RunFailure(Exception):
    """A fault of the run rather than of its input (a training process died, peers unreachable).

    Scripts print the message on one line and exit 1, without a traceback.
    """


class Stopped(Exception):
    """Training stopped early by a signal after writing a checkpoint; scripts exit with 128 + signum."""

    def __init__(self, signum, message=""):
        super().__init__(message)
        self.signum = signum


def first_line(error):
    """The first line of an exception's message (torch's often run to many lines), or its type's name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def fail_at(path, line_no, expected):
    raise UserInputError(f"{path}:{line_no}: {expected}")
