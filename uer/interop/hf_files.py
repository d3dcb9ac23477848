"""The files of a conversion: HuggingFace model folders and their weights (safetensors, single or sharded as
model-0000x-of-0000y.safetensors with model.safetensors.index.json, read one tensor at a time; or a torch
pytorch_model.bin, loaded without running code), written atomically; config files read and written."""
import json
import os
import re

from uer.core.errors import UserInputError

INDEX = "model.safetensors.index.json"


def weight_files(folder):
    """The weight files of a HuggingFace model folder: the shards its index names, model.safetensors or
    pytorch_model.bin."""
    index = os.path.join(folder, INDEX)
    if os.path.exists(index):
        from uer.core.readers import read_json_object
        weight_map = read_json_object(index, "safetensors index").get("weight_map")
        if not isinstance(weight_map, dict):
            raise UserInputError(f"{index}: no \"weight_map\" object")
        return [os.path.join(folder, name) for name in sorted(set(weight_map.values()))]
    for name in ("model.safetensors", "pytorch_model.bin"):
        if os.path.exists(os.path.join(folder, name)):
            return [os.path.join(folder, name)]
    raise UserInputError(f"{folder}: neither {INDEX} nor model.safetensors (nor pytorch_model.bin)")


def iter_tensors(path):
    """(name, tensor) of a weights file, or of every file of a model folder, one tensor at a time (a torch .bin is
    read whole)."""
    from safetensors import SafetensorError, safe_open
    for file in weight_files(path) if os.path.isdir(path) else [path]:
        if not file.endswith(".safetensors"):
            from uer.model_loader import read_state_dict
            yield from read_state_dict(file).items()
            continue
        try:
            with safe_open(file, "pt") as f:
                for name in f.keys():
                    yield name, f.get_tensor(name)
        except (OSError, SafetensorError) as e:
            raise UserInputError(f"{file}: not a readable safetensors file ({e})") from None


def write_safetensors(tensors, path):
    """Write (name, tensor) pairs as one .safetensors file: a temporary file beside it, renamed when complete.
    Returns the number of tensors."""
    from safetensors.torch import save_file
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        state = unshared(tensors)
        save_file(state, tmp, metadata={"format": "pt"})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return len(state)


def write_weights(tensors, path):
    """(name, tensor) pairs as safetensors (a path ending in .safetensors) or a torch .bin, atomically; returns
    the number of tensors."""
    if path.endswith(".safetensors"):
        return write_safetensors(tensors, path)
    from uer.model_saver import atomic_torch_save
    state = {name: t.contiguous() for name, t in tensors}
    atomic_torch_save(state, path)
    return len(state)


def unshared(tensors):
    """safetensors refuses tensors that share memory (a tied bias written under both of HF's names): copies."""
    seen, out = set(), {}
    for name, tensor in tensors:
        pointer = tensor.untyped_storage().data_ptr()
        out[name] = tensor.clone() if pointer in seen else tensor.contiguous()
        seen.add(pointer)
    return out


def require(config, keys, source):
    """The HF config's keys a conversion cannot guess, each named when missing."""
    missing = [k for k in keys if config.get(k) is None]
    if missing:
        raise UserInputError(f"{source}: no {', '.join(missing)} (needed to describe the model)")


def count_layers(state, pattern, missing):
    """1 + the largest layer index N in keys matching `pattern` (a regex whose group 1 is N)."""
    found = {int(m.group(1)) for k in state for m in [re.match(pattern, k)] if m}
    if not found:
        raise UserInputError(missing)
    return max(found) + 1


def write_json(config, path):
    from uer.core.fileutil import atomic_open
    with atomic_open(path, "w") as f:
        json.dump(config, f, indent=2)
    print(f"wrote {path}")


def uer_config_path(given, model_path):
    """Where a conversion writes the UER config: `given`, or the model path with .json for its extension."""
    return given or os.path.splitext(model_path)[0] + ".json"


def tie_from_tensors(config, state, source):
    """Whether the output layer is the word embedding, from the tensors: the flag alone misleads (transformers 5
    writes tie_word_embeddings true for T5 v1.1, whose lm_head is a table of its own)."""
    import torch
    out, emb = state.get("target.output_layer.weight"), state.get("embedding.word_embedding.weight")
    if config.get("tie_weights") and out is not None and emb is not None and out is not emb and \
            not torch.equal(out, emb):
        config["tie_weights"] = False
        print(f"note: {source} says the output layer is tied, but the file's lm_head differs from the word "
              "embedding: converted with an output layer of its own")


GENERATION_SETTINGS = ("forced_eos_token_id", "forced_bos_token_id", "no_repeat_ngram_size")


def note_generation_settings(folder):
    """transformers' generate honours these from generation_config.json (BART forces </s> as the last token at
    the length limit); the generation scripts here do not: say so where the folder sets them."""
    path = os.path.join(folder, "generation_config.json")
    if not os.path.exists(path):
        return
    from uer.core.readers import read_json_object
    given = {k: v for k, v in read_json_object(path, "generation config").items()
             if k in GENERATION_SETTINGS and v is not None and not (k == "no_repeat_ngram_size" and v == 0)}
    if given:
        print(f"note: {path} sets {', '.join(f'{k} {v}' for k, v in given.items())}: generate_seq2seq.py does not "
              "apply them, so where transformers' generate would (e.g. forcing the end token when --max_new_tokens "
              "is reached) the outputs differ")


