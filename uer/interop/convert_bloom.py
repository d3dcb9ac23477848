"""BLOOM (BloomForCausalLM) between HuggingFace's names and UER's. UER expresses it as: "embedding": "word" with
its layer norm (BLOOM's word_embeddings_layernorm), pre-LN layers with the standard layer norm
("layer_norm_unbiased": false), "alibi_position_embedding" (BLOOM's slopes), the dense feed-forward with BLOOM's
tanh gelu ("gelu_fast"), biases everywhere, a final layer norm and an output layer tied to the embedding.
BLOOM's fused query_key_value rows are per head [query, key, value]: split into UER's three projections and
joined back in that order."""
import re

import torch

from uer.core.errors import UserInputError

WITHOUT_CONFIG = None
OUTSIDE = {"transformer.word_embeddings.weight": "embedding.word_embedding.weight",
           "transformer.word_embeddings_layernorm.weight": "embedding.layer_norm.gamma",
           "transformer.word_embeddings_layernorm.bias": "embedding.layer_norm.beta",
           "transformer.ln_f.weight": "encoder.layer_norm.gamma", "transformer.ln_f.bias": "encoder.layer_norm.beta",
           "lm_head.weight": "target.output_layer.weight"}
LAYER = {"input_layernorm.weight": "layer_norm_1.gamma", "input_layernorm.bias": "layer_norm_1.beta",
         "post_attention_layernorm.weight": "layer_norm_2.gamma", "post_attention_layernorm.bias": "layer_norm_2.beta",
         "self_attention.dense.weight": "self_attn.final_linear.weight",
         "self_attention.dense.bias": "self_attn.final_linear.bias",
         "mlp.dense_h_to_4h.weight": "feed_forward.linear_1.weight", "mlp.dense_h_to_4h.bias": "feed_forward.linear_1.bias",
         "mlp.dense_4h_to_h.weight": "feed_forward.linear_2.weight", "mlp.dense_4h_to_h.bias": "feed_forward.linear_2.bias"}
HF_LAYER = re.compile(r"transformer\.h\.(\d+)\.(.+)$")
UER_LAYER = re.compile(r"encoder\.transformer\.(\d+)\.(.+)$")
FUSED = "self_attention.query_key_value."


def heads_of(config):
    return config.get("n_head") or config.get("num_attention_heads")


def to_uer(tensors, hf_config, layers_num=None):
    heads = heads_of(hf_config)
    state = {}
    for name, tensor in tensors:
        if name in OUTSIDE:
            state[OUTSIDE[name]] = tensor
            continue
        m = HF_LAYER.match(name)
        if not m:
            raise UserInputError(f"HuggingFace weight {name} has no place in a BLOOM UER model")
        layer, rest = m.group(1), m.group(2)
        if rest.startswith(FUSED):
            kind = rest[len(FUSED):]
            parts = tensor.reshape(heads, 3, -1, *tensor.shape[1:]).unbind(1)  # per head: query, key, value
            for i, part in enumerate(parts):
                state[f"encoder.transformer.{layer}.self_attn.linear_layers.{i}.{kind}"] = \
                    part.reshape(-1, *tensor.shape[1:]).contiguous()
        elif rest in LAYER:
            state[f"encoder.transformer.{layer}.{LAYER[rest]}"] = tensor
        else:
            raise UserInputError(f"HuggingFace weight {name} has no place in a BLOOM UER model")
    state.setdefault("target.output_layer.weight", state["embedding.word_embedding.weight"])  # tied: left out
    return state


def from_uer(state, hf_config, layers_num=None):
    heads = heads_of(hf_config)
    inverse_outside, inverse_layer = {v: k for k, v in OUTSIDE.items()}, {v: k for k, v in LAYER.items()}
    out, fused = {}, {}
    for name, tensor in state.items():
        if name in inverse_outside:
            out[inverse_outside[name]] = tensor
            continue
        m = UER_LAYER.match(name)
        if m and m.group(2).startswith("self_attn.linear_layers."):
            index, kind = m.group(2)[len("self_attn.linear_layers."):].split(".")
            fused.setdefault((m.group(1), kind), {})[int(index)] = tensor
        elif m and m.group(2) in inverse_layer:
            out[f"transformer.h.{m.group(1)}.{inverse_layer[m.group(2)]}"] = tensor
        else:
            raise UserInputError(f"UER weight {name} has no place in a HuggingFace BLOOM model")
    for (layer, kind), parts in fused.items():
        q, k, v = (parts[i].reshape(heads, -1, *parts[i].shape[1:]) for i in range(3))
        out[f"transformer.h.{layer}.{FUSED}{kind}"] = torch.stack([q, k, v], 1).reshape(-1, *parts[0].shape[1:])
    if hf_config.get("tie_word_embeddings", True):
        out.pop("lm_head.weight", None)
    return {k: v.contiguous() for k, v in out.items()}


def config_to_uer(config, source):
    if config.get("apply_residual_connection_post_layernorm"):
        raise UserInputError(f"{source}: apply_residual_connection_post_layernorm true is not supported")
    from uer.interop.hf_files import require
    hidden = config.get("hidden_size") or config.get("n_embed")
    require(dict(config, hidden_size=hidden), ("hidden_size", "n_layer", "n_head"), source)
    return {"emb_size": hidden, "hidden_size": hidden, "feedforward_size": 4 * hidden, "heads_num": config["n_head"],
            "layers_num": config["n_layer"], "max_seq_length": config.get("seq_length", 2048), "dropout": 0.0,
            "hidden_act": "gelu_fast", "embedding": "word", "remove_embedding_layernorm": False,
            "encoder": "transformer", "mask": "causal", "layernorm_positioning": "pre", "layernorm": "normal",
            "layer_norm_unbiased": False, "layer_norm_eps": config.get("layer_norm_epsilon", 1e-5),
            "feed_forward": "dense", "remove_transformer_bias": False, "alibi_position_embedding": True,
            "target": "lm", "has_lmtarget_bias": False, "tie_weights": bool(config.get("tie_word_embeddings", True))}


def config_from_uer(config, vocab_size):
    needed = {"alibi_position_embedding": True, "layernorm_positioning": "pre", "feed_forward": "dense",
              "hidden_act": "gelu_fast", "layer_norm_unbiased": False, "remove_embedding_layernorm": False}
    wrong = [f"{k} {config.get(k)!r} (needs {v!r})" for k, v in needed.items() if config.get(k, None) != v]
    if config.get("feedforward_size") != 4 * config["hidden_size"]:
        wrong.append("feedforward_size (needs 4 x hidden_size)")
    if wrong:
        raise UserInputError("not a BLOOM UER config: " + "; ".join(wrong))
    return {"architectures": ["BloomForCausalLM"], "model_type": "bloom", "vocab_size": vocab_size,
            "hidden_size": config["hidden_size"], "n_layer": config["layers_num"], "n_head": config["heads_num"],
            "layer_norm_epsilon": config.get("layer_norm_eps", 1e-5), "seq_length": config.get("max_seq_length", 2048),
            "apply_residual_connection_post_layernorm": False, "hidden_dropout": 0.0, "attention_dropout": 0.0,
            "tie_word_embeddings": bool(config.get("tie_weights", True)), "bos_token_id": 1, "eos_token_id": 2,
            "torch_dtype": "float32"}
