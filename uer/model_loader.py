import sys

import torch

from uer.model_saver import unwrap
from uer.utils.errors import UserInputError, first_line


def safe_torch_load(path, what):
    """torch.load without executing code (weights_only); a missing or unreadable file is a UserInputError
    naming `what` it should have been."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserInputError(f"{path}: {what} not found") from None
    except Exception as e:  # noqa: BLE001 -- torch raises many types for bad files
        raise UserInputError(f"{path}: not a loadable {what} ({type(e).__name__}: {first_line(e)})") from None


def read_state_dict(path):
    """A checkpoint's state_dict, loaded without executing code."""
    state = safe_torch_load(path, "UER model file")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserInputError(f"{path}: expected a state_dict (parameter name -> tensor)")
    return state


def _brief(keys, limit=12):
    keys = sorted(keys)
    more = f" ... and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_model(model, path, log=None, ignore_prefixes=()):
    """Load `path` into `model` non-strictly, saying which keys did not match.

    Keys under `ignore_prefixes` (e.g. a pre-training target dropped for fine-tuning) are reported but expected.
    Raises UserInputError on shape mismatches, or when no embedding/encoder weight matched at all.
    """
    log = log or sys.stderr
    state = read_state_dict(path)
    model = unwrap(model)
    own = model.state_dict()
    shape_mismatch = [f"{k} (file {tuple(state[k].shape)}, model {tuple(own[k].shape)})"
                      for k in state.keys() & own.keys() if state[k].shape != own[k].shape]
    if shape_mismatch:
        raise UserInputError(f"{path} does not fit the model config: shape mismatch for "
                             f"{_brief(shape_mismatch)}. Check --config_path and the embedding/encoder flags.")
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    matched_body = [k for k in state if k in own and k.split(".")[0] in ("embedding", "encoder")]
    if not matched_body:
        raise UserInputError(f"{path}: no embedding or encoder weight matches this model "
                             f"(model keys like {_brief(list(own)[:3])}; file keys like {_brief(list(state)[:3])}). "
                             f"Check --embedding/--encoder/--config_path.")
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
