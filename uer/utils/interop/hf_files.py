"""HuggingFace model folders: their safetensors weights, single or sharded (model-0000x-of-0000y.safetensors with
model.safetensors.index.json), read one tensor at a time through safetensors, and written atomically."""
import os

from uer.utils.errors import UserInputError

INDEX = "model.safetensors.index.json"


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
    """(name, tensor) of a .safetensors file, or of every shard of a model folder, one tensor at a time."""
    from safetensors import safe_open
    for file in weight_files(path) if os.path.isdir(path) else [path]:
        try:
            with safe_open(file, "pt") as f:
                for name in f.keys():
                    yield name, f.get_tensor(name)
        except (OSError, RuntimeError, ValueError) as e:  # SafetensorError is a ValueError/OSError by version
            raise UserInputError(f"{file}: not a readable safetensors file ({e})") from None


def write_safetensors(tensors, path):
    """Write (name, tensor) pairs as one .safetensors file: a temporary file beside it, renamed when complete."""
    from safetensors.torch import save_file
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        save_file({name: t.contiguous() for name, t in tensors}, tmp, metadata={"format": "pt"})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
