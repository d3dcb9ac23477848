class UserInputError(Exception):
    """A problem with something the user gave us (file, flag, config).

    Scripts print the message on one line and exit non-zero, without a traceback.
    """


def fail_at(path, line_no, expected):
    raise UserInputError(f"{path}:{line_no}: {expected}")
