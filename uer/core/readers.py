"""Reading user files with one-line errors that name the file and the line."""
import codecs
import json

from uer.core.errors import UserInputError


def read_text(path, what="file"):
    """The UTF-8 text of `path`, without a byte-order mark (Excel and Notepad write one); a missing file or
    undecodable bytes raise UserInputError."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise UserInputError(f"{path}: cannot read {what} ({e.strerror})") from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise UserInputError(f"{path}:{line}: not valid UTF-8") from None


def read_lines(path, what="file"):
    """Lines without their line ends (a final newline does not make an empty last line)."""
    lines = read_text(path, what).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def read_json(path, what):
    """The JSON value in `path`, or a UserInputError naming the line of a syntax error."""
    try:
        return json.loads(read_text(path, what))
    except json.JSONDecodeError as e:
        raise UserInputError(f"{path}:{e.lineno}: not valid JSON ({e})") from None


def read_json_object(path, what):
    """A JSON object from `path` (see read_json)."""
    value = read_json(path, what)
    if not isinstance(value, dict):
        raise UserInputError(f"{path}: expected a JSON object ({what})")
    return value


def read_jsonl(path, what, expected):
    """(line number, object) of each non-blank line of a JSON-lines file; one line naming the file and line for a
    line that is not a JSON object (`expected` says what one holds)."""
    import json
    from uer.core.errors import fail_at
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"{path}: {what} not found") from None
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                fail_at(path, number, f"invalid JSON ({e.msg}); expected one object per line: {expected}")
            if not isinstance(record, dict):
                fail_at(path, number, f"expected a JSON object: {expected}")
            yield number, record
