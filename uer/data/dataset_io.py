"""The `dataset.pt` container written by preprocess.py.

Not a pickle: nothing in it is executed when it is read. Layout:

    8 bytes   magic b"UERDSET1"
    8 bytes   little-endian uint64: length H of the JSON header
    H bytes   UTF-8 JSON header (target, seq_length, vocab size and fingerprint, masking mode, arrays ...)
    arrays    raw little-endian arrays, each at a 64-byte aligned offset named in the header

`DatasetFile` memory-maps the arrays, so a dataset larger than RAM can be trained on.
"""
import json
import os
import shutil
import struct

import numpy as np

from uer.core.errors import UserInputError
from uer.core.fileutil import atomic_open

MAGIC = b"UERDSET1"
ALIGN = 64


class DatasetWriter:
    """Collects arrays (in memory or as raw files on disk) and writes the container atomically."""

    def __init__(self, path):
        self.path = path
        self.arrays = []  # (name, dtype, count, source) with source an ndarray or a raw file path

    def add_array(self, name, array):
        array = np.ascontiguousarray(array)
        self.arrays.append((name, array.dtype.str, array.size, array))

    def add_raw_file(self, name, dtype, file_path):
        dtype = np.dtype(dtype)
        count = os.path.getsize(file_path) // dtype.itemsize
        self.arrays.append((name, dtype.str, count, file_path))

    def write(self, header):
        entries, offset = {}, 0
        for name, dtype, count, _ in self.arrays:
            entries[name] = {"dtype": dtype, "count": int(count), "offset": offset}
            offset += _aligned(count * np.dtype(dtype).itemsize)
        header = dict(header, arrays=entries)
        blob = json.dumps(header, ensure_ascii=False).encode("utf-8")
        start = _aligned(len(MAGIC) + 8 + len(blob))
        blob += b" " * (start - len(MAGIC) - 8 - len(blob))
        with atomic_open(self.path) as f:
            f.write(MAGIC + struct.pack("<Q", len(blob)) + blob)
            for name, dtype, count, source in self.arrays:
                if isinstance(source, np.ndarray):
                    f.write(source.tobytes())
                else:
                    with open(source, "rb") as src:
                        shutil.copyfileobj(src, f, 16 << 20)
                f.write(b"\0" * (_aligned(f.tell() - start) - (f.tell() - start)))


def _aligned(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


class DatasetFile:
    """Read-only view of a dataset container: `header` (dict) and memory-mapped `arrays`."""

    def __init__(self, path):
        self.path = path
        header, start, size = self._read_header(path)
        self.header = header
        self.arrays = {}
        for name, e in header["arrays"].items():
            dtype, count, offset = self._entry(name, e)
            if start + offset + count * dtype.itemsize > size:
                raise UserInputError(f"{path}: dataset is truncated (array {name!r} ends past the end of the file)")
            if count == 0:
                self.arrays[name] = np.zeros(0, dtype=dtype)
            else:
                self.arrays[name] = np.memmap(path, dtype=dtype, mode="r", offset=start + offset, shape=(count,))

    def _read_header(self, path):
        """(header dict, offset of the arrays, file size)."""
        corrupt = f"{path}: dataset header is corrupt or truncated"
        try:
            size = os.path.getsize(path)
            with open(path, "rb") as f:
                magic = f.read(len(MAGIC))
                if magic != MAGIC:
                    raise UserInputError(
                        f"{path}: not a dataset written by this project's preprocess.py (bad magic bytes); "
                        "run preprocess.py on the corpus to create it")
                raw = f.read(8)
                if len(raw) < 8:
                    raise UserInputError(corrupt)
                (length,) = struct.unpack("<Q", raw)
                if length > size - len(MAGIC) - 8:
                    raise UserInputError(corrupt)
                header = json.loads(f.read(length).decode("utf-8"))
        except OSError as e:
            raise UserInputError(f"{path}: cannot read dataset ({e.strerror})") from None
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise UserInputError(corrupt) from None
        if not isinstance(header, dict) or not isinstance(header.get("arrays"), dict):
            raise UserInputError(corrupt)
        return header, _aligned(len(MAGIC) + 8 + length), size

    def _entry(self, name, e):
        try:
            dtype, count, offset = np.dtype(e["dtype"]), e["count"], e["offset"]
            if type(count) is not int or type(offset) is not int or count < 0 or offset < 0 or dtype.itemsize < 1 \
                    or dtype.hasobject:
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise UserInputError(f"{self.path}: dataset header is corrupt (array {name!r})") from None
        return dtype, count, offset
