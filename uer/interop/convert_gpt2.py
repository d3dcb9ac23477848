"""The gpt2 family: GPT-2 weights and configs between HuggingFace transformers' names (GPT2LMHeadModel) and UER's.

UER expresses GPT-2 as: --embedding word_pos (word + position, "remove_embedding_layernorm": true), --encoder
gpt with "layernorm_positioning": "pre" (a final `encoder.layer_norm`), --target lm with --tie_weights,
"hidden_act": "gelu_new", the standard layer norm with GPT-2's eps. The converted config says all of it, so
the converted model needs no flag. HF's Conv1D weights are [in, out]: they are transposed to torch Linear's
[out, in] and back, so a round trip is bit-exact. GPT-2's output layer has no bias: going to UER it gets a
zero `target.output_layer.bias`; going back, a non-zero bias (a UER model trained with one) cannot be kept and
is reported.
"""
import re
import sys

import torch

from uer.core.errors import UserInputError

from uer.interop.hf_files import count_layers

# Per layer: (HF name, UER name, transposed). HF's Conv1D weights are [in, out], torch Linear's [out, in].
LAYER = [("attn.c_proj.weight", "self_attn.final_linear.weight", True),
         ("attn.c_proj.bias", "self_attn.final_linear.bias", False),
         ("mlp.c_fc.weight", "feed_forward.linear_1.weight", True),
         ("mlp.c_fc.bias", "feed_forward.linear_1.bias", False),
         ("mlp.c_proj.weight", "feed_forward.linear_2.weight", True),
         ("mlp.c_proj.bias", "feed_forward.linear_2.bias", False),
         ("ln_1.weight", "layer_norm_1.gamma", False), ("ln_1.bias", "layer_norm_1.beta", False),
         ("ln_2.weight", "layer_norm_2.gamma", False), ("ln_2.bias", "layer_norm_2.beta", False)]
OUTSIDE = [("transformer.wte.weight", "embedding.word_embedding.weight"),
           ("transformer.wpe.weight", "embedding.position_embedding.weight"),
           ("transformer.ln_f.weight", "encoder.layer_norm.gamma"),
           ("transformer.ln_f.bias", "encoder.layer_norm.beta")]
QKV = [f"self_attn.linear_layers.{j}" for j in range(3)]  # HF's c_attn holds the three, concatenated


def normalise_gpt2(state):
    """Body under "transformer." (GPT2Model files have it bare); the causal-mask buffers dropped."""
    out = {}
    for key, value in state.items():
        if re.search(r"\.attn\.(masked_)?bias$", key):
            continue
        if not key.startswith(("transformer.", "lm_head.")):
            key = "transformer." + key
        out[key] = value
    return out


def reader(state, side, layers_num, layer_pattern, not_this_model):
    """(get, layers_num): get(key) returns the tensor or stops naming the missing weight."""
    layers_num = layers_num or count_layers(state, layer_pattern, not_this_model)

    def get(key):
        if key not in state:
            raise UserInputError(f"{side} weight {key} is missing (is --layers_num {layers_num} right?)")
        return state[key]
    return get, layers_num


def to_uer(tensors, hf_config=None, layers_num=None):
    state = normalise_gpt2(dict(tensors))
    get, layers_num = reader(state, "HuggingFace", layers_num, r"transformer\.h\.(\d+)\.",
                             "no transformer.h.N weights found: not a HuggingFace GPT-2 model")
    out = {uer: get(hf) for hf, uer in OUTSIDE}
    for i in range(layers_num):
        hf, uer = f"transformer.h.{i}.", f"encoder.transformer.{i}."
        weights, biases = get(hf + "attn.c_attn.weight").t().chunk(3, 0), get(hf + "attn.c_attn.bias").chunk(3)
        for name, w, b in zip(QKV, weights, biases):
            out[uer + name + ".weight"], out[uer + name + ".bias"] = w, b
        for h, u, transposed in LAYER:
            out[uer + u] = get(hf + h).t() if transposed else get(hf + h)
    wte = out["embedding.word_embedding.weight"]
    out["target.output_layer.weight"] = state.get("lm_head.weight", wte)
    out["target.output_layer.bias"] = torch.zeros(wte.shape[0], dtype=wte.dtype)
    return {k: v.contiguous() for k, v in out.items()}


def from_uer(state, hf_config=None, layers_num=None):
    if "encoder.layer_norm.gamma" not in state:
        raise UserInputError("not a UER GPT-2 model: the final encoder.layer_norm of a pre-LN encoder is missing")
    get, layers_num = reader(state, "UER", layers_num, r"encoder\.transformer\.(\d+)\.",
                             "not a UER GPT-2 model: no encoder.transformer.N layers")
    out = {hf: get(uer) for hf, uer in OUTSIDE}
    for i in range(layers_num):
        hf, uer = f"transformer.h.{i}.", f"encoder.transformer.{i}."
        out[hf + "attn.c_attn.weight"] = torch.cat([get(uer + n + ".weight") for n in QKV], 0).t()
        out[hf + "attn.c_attn.bias"] = torch.cat([get(uer + n + ".bias") for n in QKV])
        for h, u, transposed in LAYER:
            out[hf + h] = get(uer + u).t() if transposed else get(uer + u)
    check_output_layer(state, out["transformer.wte.weight"])
    return {k: v.contiguous() for k, v in out.items()}


def check_output_layer(state, wte):
    head = state.get("target.output_layer.weight", wte)
    if not torch.equal(head, wte):
        raise UserInputError("target.output_layer.weight differs from the word embedding: GPT-2 ties them; "
                             "train with --tie_weights to convert to GPT-2")
    bias = state.get("target.output_layer.bias")
    if bias is not None and bias.abs().max() > 0:
        print(f"warning: target.output_layer.bias is not zero (max |b| {float(bias.abs().max()):.3g}); GPT-2's "
              "output layer has no bias, so it is dropped and the converted logits differ by it", file=sys.stderr)


def config_to_uer(config, source="GPT-2 config"):
    act = config.get("activation_function", "gelu_new")
    from uer.layers.position_ffn import ACTIVATIONS
    if act not in ACTIVATIONS:
        raise UserInputError(f"{source}: activation_function {act!r} is not supported; expected one of "
                             f"{', '.join(ACTIVATIONS)}")
    width = config["n_embd"]
    return {"emb_size": width, "hidden_size": width, "feedforward_size": config.get("n_inner") or 4 * width,
            "heads_num": config["n_head"], "layers_num": config["n_layer"],
            "max_seq_length": config.get("n_positions", 1024), "dropout": config.get("resid_pdrop", 0.1),
            "hidden_act": act, "layer_norm_unbiased": False, "layer_norm_eps": config.get("layer_norm_epsilon", 1e-5),
            "layernorm_positioning": "pre", "remove_embedding_layernorm": True,
            "embedding": "word_pos", "encoder": "gpt", "target": "lm", "tie_weights": True}


def config_from_uer(config, vocab_size):
    if config.get("layernorm_positioning", "post") != "pre" or not config.get("remove_embedding_layernorm"):
        raise UserInputError("GPT-2 needs a UER config with \"layernorm_positioning\": \"pre\" and "
                             "\"remove_embedding_layernorm\": true")
    if config.get("layer_norm_unbiased", True):
        raise UserInputError("GPT-2 uses the standard layer norm: the UER config must say "
                             "\"layer_norm_unbiased\": false")
    return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": vocab_size,
            "n_embd": config["hidden_size"], "n_layer": config["layers_num"], "n_head": config["heads_num"],
            "n_inner": config["feedforward_size"], "n_positions": config.get("max_seq_length", 1024),
            "activation_function": config.get("hidden_act", "gelu_new"),
            "resid_pdrop": config.get("dropout", 0.1), "embd_pdrop": config.get("dropout", 0.1),
            "attn_pdrop": config.get("dropout", 0.1), "layer_norm_epsilon": config.get("layer_norm_eps", 1e-5),
            "tie_word_embeddings": True, "initializer_range": 0.02}
