import os
import sys
import zipfile

import torch

from uer.model_saver import unwrap
from uer.core.errors import UserInputError, first_line


def safe_torch_load(path, what, mmap=False):
    """torch.load without executing code (weights_only); a missing or unreadable file is a UserInputError
    naming `what` it should have been. mmap: tensors stay in the file until read (where torch can map it: not a
    file of torch's format before 1.6, such as some UER-py 2020 models)."""
    try:
        mmap = mmap and zipfile.is_zipfile(path)
        return torch.load(path, map_location="cpu", weights_only=True, **({"mmap": True} if mmap else {}))
    except FileNotFoundError:
        raise UserInputError(f"{path}: {what} not found") from None
    except Exception as e:  # noqa: BLE001 -- torch raises many types for bad files
        raise UserInputError(f"{path}: not a loadable {what} ({type(e).__name__}: {first_line(e)})") from None


BLOCKS_INDEX = "tencentpretrain_model.bin.index.json"  # scripts/convert_model_into_blocks.py's, TencentPretrain's


def read_state_dict(path, mmap=False):
    """A checkpoint's state_dict, loaded without executing code: a model file, or a folder of blocks with their
    index (TencentPretrain's convert_model_into_blocks.py layout; the folder or its index file named)."""
    index = blocks_index(path)
    if index:
        return read_blocks(index, mmap)
    state = safe_torch_load(path, "UER model file", mmap)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserInputError(f"{path}: expected a state_dict (parameter name -> tensor)")
    return state


def blocks_index(path):
    """The index file of a model split into blocks, when `path` is one or its folder; None otherwise."""
    if os.path.isdir(path):
        index = os.path.join(path, BLOCKS_INDEX)
        if not os.path.isfile(index):
            raise UserInputError(f"{path}: a folder without {BLOCKS_INDEX}; expected a model file or the folder of "
                                 "scripts/convert_model_into_blocks.py")
        return index
    return path if path.endswith(".index.json") else None


def read_blocks(index_path, mmap=False):
    from uer.core.readers import read_json_object
    index = read_json_object(index_path, "model blocks index")
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise UserInputError(f"{index_path}: expected a \"weight_map\" of parameter name -> block file")
    folder, state = os.path.dirname(os.path.abspath(index_path)), {}
    for name in sorted(set(weight_map.values()), key=block_order):
        block = read_state_dict(os.path.join(folder, name), mmap)
        state.update({k: v for k, v in block.items() if weight_map.get(k) == name})
    missing = sorted(set(weight_map) - set(state))
    if missing:
        raise UserInputError(f"{index_path}: the blocks lack {', '.join(missing[:3])}"
                             f"{f' and {len(missing) - 3} more' if len(missing) > 3 else ''}")
    return {k: state[k] for k in weight_map}


def block_order(name):
    """tencentpretrain_model-10.bin after -9.bin."""
    stem = os.path.splitext(name)[0]
    number = stem.rsplit("-", 1)[-1]
    return (int(number) if number.isdigit() else -1, name)


def read_in_uer_layout(path, config=None, mmap=False, log=None):
    """A model file's state in this project's names, whichever layout it was written in (a one-line note when it
    was mapped). config (a dict or an args namespace): the target (ALBERT's sentence head is sop) and whether the
    layers rotate (their query/key rows are reordered); a TencentPretrain-layout file that may come from a rotary
    model needs it."""
    from uer.model_layout import layout_of, may_rotate, rotary_heads_of
    state = read_state_dict(path, mmap)
    if layout_of(state) == "uer":
        return state
    if config is None and may_rotate(state):
        raise UserInputError(f"{path} is in TencentPretrain's layout, of a model without position tables (LLaMA's "
                             "rotary layers, BLOOM's ALiBi): give --config_path, its config, to read it right")
    target = (config if isinstance(config, dict) else vars(config)).get("target") if config is not None else None
    return mapped_to_uer(state, "sop" if target == "albert" else "nsp",
                         rotary_heads_of(config) if config is not None else None, path, log)


def mapped_to_uer(state, sentence_task, rotary, path, log=None):
    """model_layout.to_uer of a file's state, said in one line when it changed anything."""
    from uer.model_layout import to_uer
    state, done = to_uer(state, sentence_task, rotary)
    if done:
        print(f"note: {path}: TencentPretrain / UER-py 2023+ layout: {'; '.join(done)}", file=log or sys.stderr)
    return state


def words_only(path):
    """A model file's state with its word embedding under this project's name, in either layout (for the scripts
    that read only that table)."""
    from uer.model_layout import RENAMES
    state = read_state_dict(path)
    old, new = RENAMES[0]
    if old + "weight" in state and new + "weight" not in state:
        state[new + "weight"] = state[old + "weight"]
    return state


def _brief(keys, limit=12):
    keys = sorted(keys)
    more = f" ... and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def explain_mismatch(model, mismatched, state, own):
    """The flag that explains a shape mismatch: the vocabulary (word embedding rows), the number of labels (a
    task head's outputs), or else the config."""
    word = "embedding.word_embedding.weight"
    if word in mismatched and state[word].shape[1:] == own[word].shape[1:]:
        return (f"The vocabulary differs: the file's word embedding has {state[word].shape[0]} rows, this model's "
                f"vocabulary {own[word].shape[0]} tokens; give --vocab_path (or --spm_model_path) the vocabulary "
                "the model was trained with.")
    for key in mismatched:
        if key.startswith("output_layer") and state[key].shape[1:] == own[key].shape[1:]:
            source = getattr(model, "labels_source", "--labels_num")
            return (f"The number of labels differs: the file's {key} has {state[key].shape[0]} outputs, this "
                    f"model {own[key].shape[0]} (from {source}).")
    return "Check --config_path and the embedding/encoder flags."


def check_encoder_matches(path, state, own):
    """A checkpoint of another encoder (same embedding) would leave the whole encoder at random: refuse it."""
    file_keys = {k for k in state if k.startswith("encoder.")}
    model_keys = {k for k in own if k.startswith("encoder.")}
    if model_keys and not file_keys & model_keys:
        raise UserInputError(f"{path}: none of the model's encoder weights is in the file: its encoder keys start "
                             f"with {_prefixes(file_keys) or '(none)'}, this model's with {_prefixes(model_keys)}. "
                             "Check --encoder and --config_path against the ones the model was trained with.")


def _prefixes(keys):
    """The key families: encoder.transformer.{i}. (stacked layers), encoder.transformer. (one shared), ..."""
    def family(key):
        parts = key.split(".")
        return ".".join(parts[:2]) + (".{i}." if len(parts) > 2 and parts[2].isdigit() else ".")
    return ", ".join(sorted({family(k) for k in keys}))


def rotary_heads(model):
    """(heads, key/value heads) of a model whose encoder rotates queries and keys (RoPE), else None."""
    for module in model.modules():
        positions = getattr(module, "positions", None)
        if positions is not None and hasattr(positions, "rotary"):  # a stack holding the rotary scheme
            attention = next(m for m in module.modules() if hasattr(m, "kv_heads_num"))
            return attention.heads_num, attention.kv_heads_num
    return None


def in_own_layout(model, state, own, path, log):
    """state in this project's key names, the model telling its sentence head and its rotary layers."""
    task = "sop" if any(k.startswith("target.sop_") for k in own) else "nsp"
    return mapped_to_uer(state, task, rotary_heads(model), path, log)


BODY = ("embedding.", "encoder.", "tgt_embedding.", "decoder.")


def check_body_complete(path, state, own):
    """A pre-trained file must fill the whole body (embeddings, encoder and decoder layers): a part left at
    random would fine-tune a half-random model. Heads (targets, task layers) may be missing; LoRA adapters and
    a subword composer are this run's own."""
    missing = [k for k in own if k not in state and k.startswith(BODY) and ".lora_" not in k]
    if missing:
        raise UserInputError(f"{path} leaves {len(missing)} weight(s) of the model's embedding/encoder/decoder "
                             f"unloaded: {_brief(missing)}. Check --config_path and the embedding/encoder flags "
                             "against the ones the model was trained with.")


def load_model(model, path, log=None, ignore_prefixes=(), state=None):
    """Load `path` into `model` non-strictly, saying which keys did not match.

    Keys under `ignore_prefixes` (e.g. a pre-training target dropped for fine-tuning) are reported but expected.
    Raises UserInputError on shape mismatches, or when no embedding/encoder weight matched at all. state: the
    weights, already read (path then only names them in the messages).
    """
    log = log or sys.stderr
    model = unwrap(model)
    on_meta = any(p.is_meta for p in model.parameters())  # a --fsdp process's (the master loads the weights)
    state = read_state_dict(path, mmap=on_meta) if state is None else state
    if hasattr(model, "adapt_to_checkpoint"):  # a model whose head follows the file's (SpanReader)
        model.adapt_to_checkpoint(state)
    own = model.state_dict()
    state = in_own_layout(model, state, own, path, log)
    mismatched = sorted(k for k in state.keys() & own.keys() if state[k].shape != own[k].shape)
    if mismatched:
        shapes = [f"{k} (file {tuple(state[k].shape)}, model {tuple(own[k].shape)})" for k in mismatched]
        raise UserInputError(f"{path} does not fit the model: shape mismatch for {_brief(shapes)}. "
                             f"{explain_mismatch(model, mismatched, state, own)}")
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    matched_body = [k for k in state if k in own and k.split(".")[0] in ("embedding", "encoder")]
    if not matched_body and any(".lora_" in k for k in state) and not any(".lora_" in k for k in own):
        raise UserInputError(f"{path} holds the LoRA adapters (and task head) of a --use_lora run, not a full model: "
                             "fold them into the model that run adapted with scripts/merge_lora.py "
                             "--pretrained_model_path BASE --lora_model_path " + path + " --output_model_path FULL, "
                             "then load FULL (or give an inference script --lora_base_model_path BASE)")
    if not matched_body:
        raise UserInputError(f"{path}: no embedding or encoder weight matches this model "
                             f"(model keys like {_brief(list(own)[:3])}; file keys like {_brief(list(state)[:3])}). "
                             f"Check --embedding/--encoder/--config_path.")
    check_encoder_matches(path, state, own)
    check_body_complete(path, state, own)
    if not on_meta:
        model.load_state_dict(state, strict=False)
    expected = lambda k: k.startswith(tuple(ignore_prefixes)) if ignore_prefixes else False  # noqa: E731
    for label, keys in (("missing (left at initial values)", missing), ("unexpected (ignored)", unexpected)):
        loud = [k for k in keys if not expected(k)]
        quiet = [k for k in keys if expected(k)]
        if loud:
            print(f"WARNING: {path}: {len(loud)} key(s) {label}: {_brief(loud)}", file=log)
        if quiet:
            print(f"note: {path}: {len(quiet)} head key(s) {label}: {_brief(quiet)}", file=log)
    return {"missing": missing, "unexpected": unexpected}


def load_exact(model, path):
    """Load a checkpoint this run wrote itself (resuming): every key must match."""
    state = read_state_dict(path)
    own = unwrap(model).state_dict()
    missing, unexpected = sorted(own.keys() - state.keys()), sorted(state.keys() - own.keys())
    shapes = [k for k in own.keys() & state.keys() if own[k].shape != state[k].shape]
    if missing or unexpected or shapes:
        raise UserInputError(f"{path} does not fit this model (missing {_brief(missing) or '-'}; unexpected "
                             f"{_brief(unexpected) or '-'}; other shape {_brief(shapes) or '-'}): resume with the "
                             "flags and config of the stopped run")
    unwrap(model).load_state_dict(state)
