"""T5 weights (T5ForConditionalGeneration: v1.0 with relu and a tied output layer, v1.1 with gated-gelu and an
untied one) to and from UER's names.

UER expresses T5 as: "embedding"/"tgt_embedding": "word" without layer norm, one shared word embedding
("share_embedding"), a fully visible "transformer" encoder and a "transformer" decoder of pre-LN layers with
"layernorm": "t5", no biases, no attention scale, "attention_head_size" (HF's d_kv) and T5's relative position
bias ("relative_position_embedding", one table per stack); the lm target without bias, tied to the embedding
with "lm_hidden_scale" hidden_size^-0.5 where HF ties them (HF scales the decoder's output then).
"""
import re

from uer.core.errors import UserInputError
from uer.interop.seq2seq_weights import hf_to_uer as renamed

ATTENTION = {"q": "linear_layers.0", "k": "linear_layers.1", "v": "linear_layers.2", "o": "final_linear"}
FEED_FORWARD = {"wi": "linear_1", "wi_0": "linear_gate", "wi_1": "linear_1", "wo": "linear_2"}
# HF sub-layer index -> (HF attention name, or None for the feed-forward; UER part; UER layer norm) per stack
ENCODER_PARTS = {0: ("SelfAttention", "self_attn", "layer_norm_1"), 1: (None, "feed_forward", "layer_norm_2")}
DECODER_PARTS = {0: ("SelfAttention", "self_attn", "layer_norm_1"),
                 1: ("EncDecAttention", "context_attn", "layer_norm_2"), 2: (None, "feed_forward", "layer_norm_3")}
STACKS = {"encoder": ("encoder.transformer", ENCODER_PARTS, "encoder.relative_pos_emb"),
          "decoder": ("decoder.transformer_decoder", DECODER_PARTS, "decoder.self_pos_emb")}
HF_KEY = re.compile(r"(encoder|decoder)\.block\.(\d+)\.layer\.(\d)\.(\w+)\.(?:(\w+)\.)?weight$")
OUTSIDE = {"shared.weight": "embedding.word_embedding.weight",
           "encoder.final_layer_norm.weight": "encoder.layer_norm.weight",
           "decoder.final_layer_norm.weight": "decoder.layer_norm.weight",
           "lm_head.weight": "target.output_layer.weight"}
DUPLICATES = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")  # copies of shared.weight


def hf_name_to_uer(name):
    if name in OUTSIDE:
        return OUTSIDE[name]
    if name in DUPLICATES:
        return None
    m = HF_KEY.match(name)
    if m:
        stack, block, sub, module, param = m.groups()
        prefix, parts, bias_table = STACKS[stack]
        hf_attention, uer_part, norm = parts[int(sub)]
        if module == "layer_norm":
            return f"{prefix}.{block}.{norm}.weight"
        if module == hf_attention and param in ATTENTION:
            return f"{prefix}.{block}.{uer_part}.{ATTENTION[param]}.weight"
        if module == "DenseReluDense" and param in FEED_FORWARD:
            return f"{prefix}.{block}.feed_forward.{FEED_FORWARD[param]}.weight"
        if param == "relative_attention_bias":
            return f"{bias_table}.relative_attention_bias.weight"
    raise UserInputError(f"HuggingFace weight {name} has no place in a UER T5 model")


def to_uer(tensors, hf_config=None, layers_num=None):
    return renamed(tensors, hf_name_to_uer)


def from_uer(state, hf_config, layers_num=None):
    gated = hf_config["feed_forward_proj"].startswith("gated")
    return uer_to_hf(state, gated, hf_config["tie_word_embeddings"]).items()


def uer_to_hf(state, gated, tied):
    names = {}
    for stack, (prefix, parts, bias_table) in STACKS.items():
        layers = {int(m.group(1)) for k in state for m in [re.match(re.escape(prefix) + r"\.(\d+)\.", k)] if m}
        for block in sorted(layers):
            for sub, (hf_attention, uer_part, norm) in parts.items():
                hf = f"{stack}.block.{block}.layer.{sub}."
                names[f"{prefix}.{block}.{norm}.weight"] = hf + "layer_norm.weight"
                if hf_attention:
                    for h, u in ATTENTION.items():
                        names[f"{prefix}.{block}.{uer_part}.{u}.weight"] = f"{hf}{hf_attention}.{h}.weight"
                else:
                    ff = {"wi_0": "linear_gate", "wi_1": "linear_1", "wo": "linear_2"} if gated else \
                        {"wi": "linear_1", "wo": "linear_2"}
                    for h, u in ff.items():
                        names[f"{prefix}.{block}.feed_forward.{u}.weight"] = f"{hf}DenseReluDense.{h}.weight"
        names[f"{bias_table}.relative_attention_bias.weight"] = \
            f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
    names.update({v: k for k, v in OUTSIDE.items()})
    if tied:
        del names["target.output_layer.weight"]
    missing = [k for k in names if k not in state]
    if missing:
        raise UserInputError(f"not a UER T5 model: {missing[0]} is missing")
    return {hf: state[uer].contiguous() for uer, hf in names.items()}


def config_to_uer(config, source):
    if config.get("model_type") != "t5" and "T5ForConditionalGeneration" not in (config.get("architectures") or []):
        raise UserInputError(f"{source}: model_type {config.get('model_type')!r} is not T5")
    if config.get("relative_attention_max_distance", 128) != 128:
        raise UserInputError(f"{source}: relative_attention_max_distance "
                             f"{config['relative_attention_max_distance']} is not supported (T5's 128)")
    from uer.interop.hf_files import require
    require(config, ("d_model", "num_heads", "d_kv", "d_ff", "num_layers"), source)
    proj = config.get("feed_forward_proj", "relu")
    gated = proj.startswith("gated-")
    act = {"gelu": "gelu_new"}.get(proj.split("-")[-1], proj.split("-")[-1]) if gated else proj
    from uer.layers.position_ffn import ACTIVATIONS
    if act not in ACTIVATIONS:
        raise UserInputError(f"{source}: feed_forward_proj {proj!r} is not supported")
    width, heads, d_kv = config["d_model"], config["num_heads"], config["d_kv"]
    tied = config.get("tie_word_embeddings", True)
    out = {"emb_size": width, "hidden_size": width, "feedforward_size": config["d_ff"], "heads_num": heads,
           "layers_num": config["num_layers"], "decoder_layers_num": config.get("num_decoder_layers") or
           config["num_layers"], "dropout": config.get("dropout_rate", 0.1), "hidden_act": act,
           "embedding": "word", "tgt_embedding": "word", "share_embedding": True, "remove_embedding_layernorm": True,
           "encoder": "transformer", "mask": "fully_visible", "decoder": "transformer",
           "layernorm_positioning": "pre", "layernorm": "t5", "layer_norm_eps": config.get("layer_norm_epsilon", 1e-6),
           "remove_transformer_bias": True, "remove_attention_scale": True, "relative_position_embedding": True,
           "relative_attention_buckets_num": config.get("relative_attention_num_buckets", 32),
           "feed_forward": "gated" if gated else "dense", "target": "lm", "has_lmtarget_bias": False,
           "tie_weights": bool(tied),
           # transformers 5 says scale_decoder_outputs (and writes tie_word_embeddings true for every T5); 4 let
           # tie_word_embeddings say both
           "lm_hidden_scale": width ** -0.5 if config.get("scale_decoder_outputs", tied) else 1.0,
           "decoder_start_token_id": config.get("decoder_start_token_id", config.get("pad_token_id", 0))}
    if d_kv * heads != width:
        out["attention_head_size"] = d_kv
    return out


def config_from_uer(config, vocab_size):
    needed = {"layernorm": "t5", "relative_position_embedding": True, "remove_attention_scale": True,
              "remove_transformer_bias": True, "layernorm_positioning": "pre", "decoder": "transformer"}
    wrong = [f"{k} {config.get(k)!r} (needs {v!r})" for k, v in needed.items() if config.get(k) != v]
    if wrong:
        raise UserInputError("not a T5-style UER config: " + "; ".join(wrong))
    scale = config.get("lm_hidden_scale", 1.0)
    if scale != 1.0 and abs(scale - config["hidden_size"] ** -0.5) > 1e-12:
        raise UserInputError(f"lm_hidden_scale {scale}: HF T5 scales by hidden_size^-0.5 or not at all")
    gated = config.get("feed_forward") == "gated"
    act = config.get("hidden_act", "relu")
    heads = config["heads_num"]
    tied = bool(config.get("tie_weights"))
    return {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", "vocab_size": vocab_size,
            "d_model": config["hidden_size"], "d_ff": config["feedforward_size"], "num_heads": heads,
            "d_kv": config.get("attention_head_size") or config["hidden_size"] // heads,
            "num_layers": config["layers_num"], "num_decoder_layers": config["decoder_layers_num"],
            "feed_forward_proj": ("gated-" + ("gelu" if act == "gelu_new" else act)) if gated else act,
            "dropout_rate": config.get("dropout", 0.1), "layer_norm_epsilon": config.get("layer_norm_eps", 1e-6),
            "relative_attention_num_buckets": config.get("relative_attention_buckets_num", 32),
            "relative_attention_max_distance": 128, "tie_word_embeddings": tied,
            "scale_decoder_outputs": config.get("lm_hidden_scale", 1.0) != 1.0, "is_encoder_decoder": True,
            "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0}
