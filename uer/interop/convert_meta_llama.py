"""Meta's original LLaMA checkpoints (a folder with consolidated.00.pth, ... and params.json: LLaMA, Llama 2,
Llama 3/3.1 as Meta publishes them) to and from UER's names, as TencentPretrain's convert_llama_to_tencentpretrain.py
reads them.

Meta's code rotates adjacent pairs of a head's dimensions (2i, 2i + 1); UER (like HF) pairs i with i + head_size
/ 2: the query and key rows are reordered per head both ways. Several consolidated files are the model-parallel
shards of one model: the column-parallel weights (wq, wk, wv, w1, w3, output) are concatenated along their rows,
the row-parallel ones (wo, w2) and the embedding along their columns, the norms taken from the first. The
feed-forward width is params.json's rule (2/3 of 4 x dim, times ffn_dim_multiplier, rounded up to multiple_of);
Llama 3.1's "use_scaled_rope" is the llama3 rope scaling with Meta's constants."""
import glob
import os
import re

import torch

from uer.core.errors import UserInputError

LAYER = {"attention.wq": "self_attn.linear_layers.0", "attention.wk": "self_attn.linear_layers.1",
         "attention.wv": "self_attn.linear_layers.2", "attention.wo": "self_attn.final_linear",
         "feed_forward.w1": "feed_forward.linear_gate", "feed_forward.w3": "feed_forward.linear_1",
         "feed_forward.w2": "feed_forward.linear_2", "attention_norm": "layer_norm_1", "ffn_norm": "layer_norm_2"}
OUTSIDE = {"tok_embeddings.weight": "embedding.word_embedding.weight", "norm.weight": "encoder.layer_norm.weight",
           "output.weight": "target.output_layer.weight"}
META_LAYER = re.compile(r"layers\.(\d+)\.(.+)\.weight$")
UER_LAYER = re.compile(r"encoder\.transformer\.(\d+)\.(.+)\.weight$")
ROWS_SPLIT = ("wq", "wk", "wv", "w1", "w3", "output")  # column-parallel: shards hold rows
COLUMNS_SPLIT = ("wo", "w2", "tok_embeddings")  # row-parallel (and the embedding): shards hold columns
SCALED_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192}
WITHOUT_CONFIG = None  # params.json gives the heads, which the rotary reordering needs


def shard_files(path):
    files = sorted(glob.glob(os.path.join(path, "consolidated.*.pth"))) if os.path.isdir(path) else [path]
    if not files:
        raise UserInputError(f"{path}: no consolidated.*.pth (Meta's checkpoint files)")
    return files


def read_checkpoint(path):
    """(Meta name, tensor) pairs of a checkpoint folder (its model-parallel shards merged) or one .pth file."""
    from uer.model_loader import read_state_dict
    shards = [read_state_dict(f, mmap=True) for f in shard_files(path)]
    for name, first in shards[0].items():
        if name.endswith("rope.freqs"):
            continue  # a buffer: recomputed from rope_theta
        if len(shards) == 1 or first.dim() < 2:
            yield name, first
            continue
        kind = name.split(".")[-2]
        dim = 0 if kind in ROWS_SPLIT else 1 if kind in COLUMNS_SPLIT else None
        yield name, first if dim is None else torch.cat([s[name] for s in shards], dim)


def write_checkpoint(tensors, path):
    """One consolidated file (a path ending in .pth), written atomically."""
    from uer.model_saver import atomic_torch_save
    if not path.endswith(".pth"):
        raise UserInputError(f"--output_model_path {path}: expected a .pth file (Meta's consolidated.00.pth)")
    state = {name: t.contiguous() for name, t in tensors}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_torch_save(state, path)
    return len(state)


def heads_of(params):
    heads = params["n_heads"]
    return heads, params.get("n_kv_heads") or heads


def to_uer(tensors, params, layers_num=None):
    from uer.model_layout import reorder_rotary
    state = {}
    for name, tensor in tensors:
        if name in OUTSIDE:
            state[OUTSIDE[name]] = tensor
            continue
        m = META_LAYER.match(name)
        if not m or m.group(2) not in LAYER:
            raise UserInputError(f"Meta weight {name} has no place in a LLaMA-style UER model")
        state[f"encoder.transformer.{m.group(1)}.{LAYER[m.group(2)]}.weight"] = tensor
    reorder_rotary(state, heads_of(params), to_halves=True)
    return state


def from_uer(state, params, layers_num=None):
    from uer.model_layout import reorder_rotary
    state = dict(state)
    reorder_rotary(state, heads_of(params), to_halves=False)
    outside, layer = {v: k for k, v in OUTSIDE.items()}, {v: k for k, v in LAYER.items()}
    for name, tensor in state.items():
        m = UER_LAYER.match(name)
        if name in outside:
            yield outside[name], tensor
        elif m and m.group(2) in layer:
            yield f"layers.{m.group(1)}.{layer[m.group(2)]}.weight", tensor
        else:
            raise UserInputError(f"UER weight {name} has no place in Meta's LLaMA checkpoint")


def feedforward_size(params):
    dim, multiple = params["dim"], params.get("multiple_of", 256)
    hidden = int(2 * 4 * dim / 3)
    if params.get("ffn_dim_multiplier") is not None:
        hidden = int(params["ffn_dim_multiplier"] * hidden)
    return multiple * ((hidden + multiple - 1) // multiple)


def config_to_uer(params, source):
    from uer.interop.hf_files import require
    require(params, ("dim", "n_layers", "n_heads"), source)
    heads, kv = heads_of(params)
    out = {"emb_size": params["dim"], "hidden_size": params["dim"], "feedforward_size": feedforward_size(params),
           "heads_num": heads, "layers_num": params["n_layers"], "max_seq_length": params.get("max_seq_len", 4096),
           "dropout": 0.0, "hidden_act": "silu", "embedding": "word", "remove_embedding_layernorm": True,
           "encoder": "transformer", "mask": "causal", "layernorm_positioning": "pre", "layernorm": "rms",
           "layer_norm_eps": params.get("norm_eps", 1e-5), "feed_forward": "gated", "remove_transformer_bias": True,
           "rotary_position_embedding": True, "rope_theta": float(params.get("rope_theta", 10000.0)),
           "target": "lm", "has_lmtarget_bias": False, "tie_weights": False}
    if kv != heads:
        out["local_kv_heads_num"] = kv
    if params.get("use_scaled_rope"):
        out["rope_scaling"] = dict(SCALED_ROPE)
    return out


def config_from_uer(config, vocab_size):
    """params.json; the feed-forward width written so that Meta's rule gives it back."""
    from uer.interop.convert_llama import config_from_uer as llama_config
    llama_config(config, vocab_size)  # the same checks: a LLaMA-style config
    if config.get("attention_qkv_bias") or config.get("attention_head_size") or config.get("tie_weights"):
        raise UserInputError("Meta's LLaMA format has no query/key/value biases, other head sizes or tied output")
    scaling = config.get("rope_scaling")
    if scaling and scaling != SCALED_ROPE:
        raise UserInputError(f"rope_scaling {scaling} has no place in Meta's params.json (only Llama 3.1's)")
    dim, width = config["hidden_size"], config["feedforward_size"]
    out = {"dim": dim, "n_layers": config["layers_num"], "n_heads": config["heads_num"], "vocab_size": vocab_size,
           "norm_eps": config.get("layer_norm_eps", 1e-5), "rope_theta": config.get("rope_theta", 10000.0),
           "max_seq_len": config.get("max_seq_length", 4096)}
    if config.get("local_kv_heads_num"):
        out["n_kv_heads"] = config["local_kv_heads_num"]
    if int(8 * dim / 3) <= width:
        out["multiple_of"] = width
    else:  # narrower than the rule's base: a multiplier that the rule's int() brings back to the width
        out.update(multiple_of=1, ffn_dim_multiplier=(width + 0.5) / int(8 * dim / 3))
    if scaling:
        out["use_scaled_rope"] = True
    return out
