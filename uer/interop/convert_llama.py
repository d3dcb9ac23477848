"""LLaMA-family weights (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM; TencentPretrain's
LLaMA checkpoints) to and from UER's names, one tensor at a time.

UER expresses these models as: "embedding": "word" without its layer norm, "encoder": "transformer" with
"mask": "causal", pre-LN layers with "layernorm": "rms", "feed_forward": "gated" (silu), no biases
("remove_transformer_bias"; Qwen2 keeps its query/key/value biases: "attention_qkv_bias"; Qwen3 normalises each
head's query and key: "qk_norm"),
"rotary_position_embedding" with HF's "rope_theta", "local_kv_heads_num" for grouped-query attention, and an LM
target without bias ("has_lmtarget_bias": false), tied to the embedding where HF ties them.

Rotary pairing: HF (and UER) rotate dimension i of a head with i + head_size / 2; TencentPretrain, like Meta's
original code, rotates adjacent pairs (2i, 2i + 1): its files are read through uer/model_layout.py,
which reorders the query and key rows.
"""
import re

import torch

from uer.core.errors import UserInputError

ARCHITECTURES = ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "GemmaForCausalLM")
GEMMA_ACTIVATIONS = {"gelu_pytorch_tanh": "gelu_fast", "gelu": "gelu"}  # HF's hidden_activation: ours
LAYER = {"self_attn.q_proj": "self_attn.linear_layers.0", "self_attn.k_proj": "self_attn.linear_layers.1",
         "self_attn.v_proj": "self_attn.linear_layers.2", "self_attn.o_proj": "self_attn.final_linear",
         "mlp.gate_proj": "feed_forward.linear_gate", "mlp.up_proj": "feed_forward.linear_1",
         "mlp.down_proj": "feed_forward.linear_2", "input_layernorm": "layer_norm_1",
         "post_attention_layernorm": "layer_norm_2", "self_attn.q_norm": "self_attn.query_norm",
         "self_attn.k_norm": "self_attn.key_norm"}
OUTSIDE = {"model.embed_tokens.weight": "embedding.word_embedding.weight",
           "model.norm.weight": "encoder.layer_norm.weight", "lm_head.weight": "target.output_layer.weight"}
HF_LAYER = re.compile(r"model\.layers\.(\d+)\.(.+)\.(weight|bias)$")
UER_LAYER = re.compile(r"encoder\.transformer\.(\d+)\.(.+)\.(weight|bias)$")


def hf_name_to_uer(name):
    if name in OUTSIDE:
        return OUTSIDE[name]
    m = HF_LAYER.match(name)
    if m and m.group(2) in LAYER:
        return f"encoder.transformer.{m.group(1)}.{LAYER[m.group(2)]}.{m.group(3)}"
    if name.endswith("rotary_emb.inv_freq"):
        return None  # a buffer older files saved; recomputed from rope_theta
    raise UserInputError(f"HuggingFace weight {name} has no place in a LLaMA-style UER model")


def uer_name_to_hf(name):
    inverse = {v: k for k, v in OUTSIDE.items()}
    if name in inverse:
        return inverse[name]
    m = UER_LAYER.match(name)
    layer = {v: k for k, v in LAYER.items()}
    if m and m.group(2) in layer:
        return f"model.layers.{m.group(1)}.{layer[m.group(2)]}.{m.group(3)}"
    raise UserInputError(f"UER weight {name} has no place in a HuggingFace LLaMA-style model")


def to_uer(tensors, hf_config=None, layers_num=None):
    """The UER state of (HF name, tensor) pairs, with its output layer."""
    return with_output_layer({uer: tensor for uer, tensor in ((hf_name_to_uer(n), t) for n, t in tensors)
                              if uer is not None})


def with_output_layer(state):
    """The state with its output layer: HF (and TencentPretrain) leave a tied head out of the file."""
    if "target.output_layer.weight" not in state:
        state["target.output_layer.weight"] = state["embedding.word_embedding.weight"]
    return state


def from_uer(state, hf_config, layers_num=None):
    """(HF name, tensor) pairs; a tied output layer is not written (HF ties it itself)."""
    tied = hf_config["tie_word_embeddings"]
    if tied and not torch.equal(state["target.output_layer.weight"], state["embedding.word_embedding.weight"]):
        raise UserInputError("the config says tie_weights, but the model's output layer differs from its word "
                             "embedding")
    return ((uer_name_to_hf(name), tensor) for name, tensor in state.items()
            if not (tied and name == "target.output_layer.weight"))


def rope_scaling_of(config, rope, max_length, source):
    """Our "rope_scaling" of HF's rope_scaling (transformers 4) or rope_parameters (5), None for plain RoPE."""
    from uer.layers.position import ROPE_SCALING_KEYS
    given = dict(config.get("rope_scaling") or rope)
    kind, old_spelling = given.pop("rope_type", None), given.pop("type", None)  # transformers 4 wrote "type"
    kind = kind or old_spelling or "default"
    if kind == "default":
        return None
    if kind not in ROPE_SCALING_KEYS:
        raise UserInputError(f"{source}: rope scaling {kind!r} is not supported; supported: "
                             f"{', '.join(ROPE_SCALING_KEYS)}")
    if kind == "dynamic":
        given.setdefault("original_max_position_embeddings", max_length)
    from uer.opts import check_rope_scaling
    scaling = {"rope_type": kind, **{k: given[k] for k in ROPE_SCALING_KEYS[kind] if k in given}}
    check_rope_scaling(scaling, source)  # the config is checked as it is written, not when first read
    return scaling


def config_to_uer(config, source):
    arch = (config.get("architectures") or [None])[0]
    if arch not in ARCHITECTURES:
        raise UserInputError(f"{source}: architecture {arch or config.get('model_type')!r} is not supported by this "
                             f"converter; it converts {', '.join(ARCHITECTURES)}")
    for key in ("attention_bias", "mlp_bias"):
        if config.get(key):
            raise UserInputError(f"{source}: {key} true (biases on every projection) is not supported")
    rope = config.get("rope_parameters") or {}  # transformers 5; 4 wrote rope_theta and rope_scaling
    act = activation_of(config, arch, source)
    from uer.interop.hf_files import require
    require(config, ("num_attention_heads", "hidden_size", "intermediate_size", "num_hidden_layers"), source)
    heads, width = config["num_attention_heads"], config["hidden_size"]
    max_length = config.get("max_position_embeddings", 2048)
    window = config.get("sliding_window") if config.get("use_sliding_window", arch == "MistralForCausalLM") else None
    if window and window < max_length:
        print(f"note: {source}: sliding_window {window} < max_position_embeddings {max_length}: the converted model "
              f"takes at most {window} tokens (max_seq_length), where the window changes nothing")
        max_length = window
    scaling = rope_scaling_of(config, rope, max_length, source)
    if scaling and scaling["rope_type"] == "dynamic":  # the point of it: running past the original length
        max_length = int(max_length * scaling["factor"])
    out = {"emb_size": width, "hidden_size": width, "feedforward_size": config["intermediate_size"],
           "heads_num": heads, "layers_num": config["num_hidden_layers"], "max_seq_length": max_length,
           "dropout": 0.0, "hidden_act": act, "embedding": "word", "remove_embedding_layernorm": True,
           "encoder": "transformer", "mask": "causal", "layernorm_positioning": "pre", "layernorm": "rms",
           "layer_norm_eps": config.get("rms_norm_eps", 1e-6), "feed_forward": "gated",
           "remove_transformer_bias": True, "rotary_position_embedding": True,
           "rope_theta": float(rope.get("rope_theta", config.get("rope_theta", 10000.0))), "target": "lm",
           "has_lmtarget_bias": False,
           "tie_weights": bool(config.get("tie_word_embeddings", False))}
    if scaling:
        out["rope_scaling"] = scaling
    kv = config.get("num_key_value_heads") or heads
    if heads % kv:
        raise UserInputError(f"{source}: num_key_value_heads {kv} does not divide num_attention_heads {heads}")
    if kv != heads:
        out["local_kv_heads_num"] = kv
    head_dim = config.get("head_dim") or width // heads
    if head_dim % 2 or (not config.get("head_dim") and width % heads):
        raise UserInputError(f"{source}: a head size of {width} / {heads} (hidden_size / num_attention_heads) is "
                             "not an even integer; rotary positions need one (give head_dim)")
    if head_dim * heads != width:
        out["attention_head_size"] = head_dim
    if arch == "Qwen2ForCausalLM":
        out["attention_qkv_bias"] = True
    if arch == "Qwen3ForCausalLM":
        out["qk_norm"] = True
    if arch == "GemmaForCausalLM":  # its norms scale by 1 + weight, its embeddings by sqrt(hidden_size)
        out.update(layernorm="gemma", embedding_scale=width ** 0.5)
    return out


def activation_of(config, arch, source):
    if arch == "GemmaForCausalLM":
        act = config.get("hidden_activation") or "gelu_pytorch_tanh"
        if act not in GEMMA_ACTIVATIONS:
            raise UserInputError(f"{source}: hidden_activation {act!r} is not supported; {', '.join(GEMMA_ACTIVATIONS)}")
        return GEMMA_ACTIVATIONS[act]
    if config.get("hidden_act", "silu") != "silu":
        raise UserInputError(f"{source}: hidden_act {config['hidden_act']!r}; LLaMA-style models use silu")
    return "silu"


def hf_rope_scaling(config):
    """HF's keys of our "rope_scaling" (dynamic: the original length is HF's max_position_embeddings)."""
    scaling = config.get("rope_scaling")
    if not scaling:
        return {}
    params = {k: v for k, v in scaling.items() if k != "original_max_position_embeddings" or
              scaling["rope_type"] != "dynamic"}
    out = {"rope_scaling": params, "rope_parameters": dict(params, rope_theta=config.get("rope_theta", 10000.0))}
    if scaling["rope_type"] == "dynamic":
        out["max_position_embeddings"] = scaling["original_max_position_embeddings"]
    return out


def config_from_uer(config, vocab_size):
    """config.json of LlamaForCausalLM (Qwen2ForCausalLM when the query/key/value projections have biases)."""
    gemma = config.get("layernorm") == "gemma"
    needed = {"layernorm": "gemma" if gemma else "rms", "feed_forward": "gated", "rotary_position_embedding": True,
              "remove_transformer_bias": True, "layernorm_positioning": "pre"}
    if not gemma:
        needed["hidden_act"] = "silu"
    elif config.get("hidden_act") not in GEMMA_ACTIVATIONS.values() or \
            config.get("embedding_scale") != config["hidden_size"] ** 0.5:
        raise UserInputError("a Gemma-style UER config needs hidden_act gelu_fast or gelu and embedding_scale "
                             "sqrt(hidden_size)")
    wrong = [f"{k} {config.get(k)!r} (needs {v!r})" for k, v in needed.items() if config.get(k) != v]
    if config.get("mask", "causal") != "causal":
        wrong.append(f"mask {config['mask']!r} (needs 'causal')")
    if config.get("has_lmtarget_bias", True):
        wrong.append("has_lmtarget_bias (needs false)")
    if wrong:
        raise UserInputError("not a LLaMA-style UER config: " + "; ".join(wrong))
    qwen, qwen3 = bool(config.get("attention_qkv_bias")), bool(config.get("qk_norm"))
    if qwen and qwen3:
        raise UserInputError("query/key/value biases and query/key norms together: neither Qwen2 nor Qwen3")
    kind = "gemma" if gemma else "qwen3" if qwen3 else "qwen2" if qwen else "llama"
    heads = config["heads_num"]
    out = {"architectures": [{"qwen3": "Qwen3ForCausalLM", "qwen2": "Qwen2ForCausalLM",
                              "gemma": "GemmaForCausalLM"}.get(kind, "LlamaForCausalLM")],
           "model_type": kind, "vocab_size": vocab_size,
           "hidden_size": config["hidden_size"], "intermediate_size": config["feedforward_size"],
           "num_hidden_layers": config["layers_num"], "num_attention_heads": heads,
           "num_key_value_heads": config.get("local_kv_heads_num") or heads,
           "head_dim": config.get("attention_head_size") or config["hidden_size"] // heads,
           "max_position_embeddings": config.get("max_seq_length", 2048), "hidden_act": "silu",
           "rms_norm_eps": config.get("layer_norm_eps", 1e-6), "rope_theta": config.get("rope_theta", 10000.0),
           "rope_parameters": {"rope_type": "default", "rope_theta": config.get("rope_theta", 10000.0)},
           **hf_rope_scaling(config),
           "tie_word_embeddings": bool(config.get("tie_weights", False)), "attention_bias": False,
           "torch_dtype": "float32"}
    if qwen or qwen3:
        out.update(use_sliding_window=False, sliding_window=None)
    if gemma:
        out["hidden_activation"] = {v: k for k, v in GEMMA_ACTIVATIONS.items()}[config["hidden_act"]]
        out["hidden_act"] = out["hidden_activation"]
    return out
