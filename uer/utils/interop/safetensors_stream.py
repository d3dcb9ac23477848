"""Safetensors files read and written one tensor at a time, so that converting a model holds it in memory once.

safetensors' own reader maps the file into memory (every page read stays in the process's resident set next to
the copy made of it) and its writer serialises every tensor to bytes before writing the first: each would
double the peak memory of a conversion. The format is small (8 bytes of header length, a JSON header of
dtype / shape / byte offsets, the raw little-endian data), so it is read and written here with plain file I/O.
Sharded models (model-0000x-of-0000y.safetensors and model.safetensors.index.json) are read shard by shard.
"""
import json
import os
import struct

import torch

from uer.utils.errors import UserInputError
from uer.utils.fileutil import atomic_open

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}
INDEX = "model.safetensors.index.json"


def read_header(f, path):
    try:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    except (struct.error, ValueError, UnicodeDecodeError) as e:
        raise UserInputError(f"{path}: not a readable safetensors file ({e})") from None
    header.pop("__metadata__", None)
    return header, 8 + size


def iter_file(path):
    """(name, tensor) for each tensor of one .safetensors file, in file order, each read into its own memory."""
    with open(path, "rb") as f:
        header, start = read_header(f, path)
        for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
            if entry["dtype"] not in DTYPES:
                raise UserInputError(f"{path}: tensor {name} has dtype {entry['dtype']}, not one of {', '.join(DTYPES)}")
            begin, end = entry["data_offsets"]
            raw = torch.empty(end - begin, dtype=torch.uint8)
            f.seek(start + begin)
            if f.readinto(raw.numpy()) != end - begin:
                raise UserInputError(f"{path}: tensor {name} is cut short (the file is truncated)")
            yield name, raw.view(DTYPES[entry["dtype"]]).reshape(entry["shape"])


def weight_files(folder):
    """The .safetensors files of a HuggingFace model folder: the shards its index names, or model.safetensors."""
    index = os.path.join(folder, INDEX)
    if os.path.exists(index):
        from uer.utils.readers import read_json_object
        weight_map = read_json_object(index, "safetensors index").get("weight_map")
        if not isinstance(weight_map, dict):
            raise UserInputError(f"{index}: no \"weight_map\" object")
        return [os.path.join(folder, name) for name in sorted(set(weight_map.values()))]
    single = os.path.join(folder, "model.safetensors")
    if not os.path.exists(single):
        raise UserInputError(f"{folder}: neither {INDEX} nor model.safetensors")
    return [single]


def iter_tensors(path):
    """(name, tensor) of a .safetensors file, or of every shard of a model folder."""
    for file in weight_files(path) if os.path.isdir(path) else [path]:
        yield from iter_file(file)


def write_file(tensors, path, metadata=None):
    """Write {name: tensor} (an iterable of pairs) as one .safetensors file, atomically, one tensor at a time.
    Tensors may be lazy (memory-mapped): each is read only when written."""
    tensors = list(tensors)
    header, offset = {}, 0
    for name, t in tensors:
        nbytes = t.numel() * t.element_size()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    if metadata:
        header["__metadata__"] = metadata
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # the data begins 8-byte aligned
    with atomic_open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob)
        for _, t in tensors:
            f.write(memoryview(t.contiguous().view(-1).view(torch.uint8).numpy()))
