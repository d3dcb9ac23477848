"""BART weights (BartForConditionalGeneration) to and from UER's names.

UER expresses BART as: "embedding"/"tgt_embedding": "word_pos" (learned positions, "position_offset": 2 as BART's
table starts two rows early) with their own standard layer norms (HF's layernorm_embedding), one shared word
embedding, a fully visible "transformer" encoder and a "transformer" decoder of post-LN layers with biases, the
standard layer norm (eps 1e-5) and gelu, and the lm target tied to the embedding with a bias (HF's
final_logits_bias).
"""
import re

from uer.core.errors import UserInputError
from uer.interop.seq2seq_weights import hf_to_uer as renamed

ATTENTION = {"q_proj": "linear_layers.0", "k_proj": "linear_layers.1", "v_proj": "linear_layers.2",
             "out_proj": "final_linear"}
LAYER = {"self_attn_layer_norm": "layer_norm_1", "fc1": "feed_forward.linear_1", "fc2": "feed_forward.linear_2"}
NORMS = {"encoder": {"self_attn_layer_norm": "layer_norm_1", "final_layer_norm": "layer_norm_2"},
         "decoder": {"self_attn_layer_norm": "layer_norm_1", "encoder_attn_layer_norm": "layer_norm_2",
                     "final_layer_norm": "layer_norm_3"}}
STACKS = {"encoder": ("encoder.transformer", "embedding"), "decoder": ("decoder.transformer_decoder", "tgt_embedding")}
LAYER_KEY = re.compile(r"model\.(encoder|decoder)\.layers\.(\d+)\.(\w+?)(?:\.(\w+))?\.(weight|bias)$")
PARAM = {"weight": "gamma", "bias": "beta"}  # UER's layer-norm parameter names


def hf_name_to_uer(name):
    if name == "model.shared.weight":
        return "embedding.word_embedding.weight"
    if name in ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"):
        return None  # copies of model.shared.weight
    if name == "lm_head.weight":
        return "target.output_layer.weight"
    if name == "final_logits_bias":
        return "target.output_layer.bias"
    m = re.match(r"model\.(encoder|decoder)\.(embed_positions|layernorm_embedding)\.(weight|bias)$", name)
    if m:
        stack, part, param = m.groups()
        emb = STACKS[stack][1]
        return f"{emb}.position_embedding.weight" if part == "embed_positions" else f"{emb}.layer_norm.{PARAM[param]}"
    m = LAYER_KEY.match(name)
    if m:
        stack, i, module, sub, param = m.groups()
        prefix = f"{STACKS[stack][0]}.{i}"
        if module in NORMS[stack] and sub is None:
            return f"{prefix}.{NORMS[stack][module]}.{PARAM[param]}"
        if module in ("fc1", "fc2") and sub is None:
            return f"{prefix}.{LAYER[module]}.{param}"
        if module in ("self_attn", "encoder_attn") and sub in ATTENTION:
            return f"{prefix}.{'self_attn' if module == 'self_attn' else 'context_attn'}.{ATTENTION[sub]}.{param}"
    raise UserInputError(f"HuggingFace weight {name} has no place in a UER BART model")


def to_uer(tensors, hf_config=None, layers_num=None):
    out = renamed(tensors, hf_name_to_uer)
    out["target.output_layer.bias"] = out["target.output_layer.bias"].reshape(-1)  # HF's [1, vocab] buffer
    return out


def from_uer(state, hf_config, layers_num=None):
    return uer_to_hf(state).items()


def uer_to_hf(state):
    out = {}
    for name, tensor in state.items():
        hf = uer_name_to_hf(name)
        if hf is not None:
            out[hf] = (tensor.reshape(1, -1) if hf == "final_logits_bias" else tensor).contiguous()
    return out  # HF ties lm_head and the stacks' embed_tokens to model.shared itself


def uer_name_to_hf(name):
    if name in ("tgt_embedding.word_embedding.weight", "target.output_layer.weight"):
        return None  # the shared embedding, tied
    if name == "target.output_layer.bias":
        return "final_logits_bias"
    if name == "embedding.word_embedding.weight":
        return "model.shared.weight"
    inverse = {}
    for stack, (prefix, emb) in STACKS.items():
        inverse[f"{emb}.position_embedding.weight"] = f"model.{stack}.embed_positions.weight"
        for p, u in PARAM.items():
            inverse[f"{emb}.layer_norm.{u}"] = f"model.{stack}.layernorm_embedding.{p}"
    if name in inverse:
        return inverse[name]
    for stack, (prefix, _) in STACKS.items():
        m = re.match(re.escape(prefix) + r"\.(\d+)\.(.+)\.(\w+)$", name)
        if not m:
            continue
        i, part, param = m.groups()
        hf = f"model.{stack}.layers.{i}."
        norms = {v: k for k, v in NORMS[stack].items()}
        if part in norms:
            return hf + norms[part] + "." + {v: k for k, v in PARAM.items()}[param]
        if part in ("feed_forward.linear_1", "feed_forward.linear_2"):
            return hf + ("fc1" if part.endswith("1") else "fc2") + "." + param
        attn, _, sub = part.partition(".")
        if attn in ("self_attn", "context_attn") and sub in ATTENTION.values():
            module = "self_attn" if attn == "self_attn" else "encoder_attn"
            return f"{hf}{module}.{ {v: k for k, v in ATTENTION.items()}[sub]}.{param}"
    raise UserInputError(f"UER weight {name} has no place in a HuggingFace BART model")


def config_to_uer(config, source):
    if config.get("model_type") != "bart":
        raise UserInputError(f"{source}: model_type {config.get('model_type')!r} is not BART")
    if config.get("scale_embedding"):
        raise UserInputError(f"{source}: scale_embedding true (embeddings times sqrt(d_model)) is not supported")
    if config.get("encoder_attention_heads") != config.get("decoder_attention_heads") or \
            config.get("encoder_ffn_dim") != config.get("decoder_ffn_dim"):
        raise UserInputError(f"{source}: the encoder and decoder differ in heads or feed-forward size; one config "
                             "describes both here")
    from uer.interop.hf_files import require
    require(config, ("d_model", "encoder_ffn_dim", "encoder_attention_heads", "encoder_layers", "decoder_layers",
                     "max_position_embeddings"), source)
    act = config.get("activation_function", "gelu")
    from uer.layers.position_ffn import ACTIVATIONS
    if act not in ACTIVATIONS:
        raise UserInputError(f"{source}: activation_function {act!r} is not supported")
    width = config["d_model"]
    return {"emb_size": width, "hidden_size": width, "feedforward_size": config["encoder_ffn_dim"],
            "heads_num": config["encoder_attention_heads"], "layers_num": config["encoder_layers"],
            "decoder_layers_num": config["decoder_layers"], "max_seq_length": config["max_position_embeddings"],
            "position_offset": 2, "dropout": config.get("dropout", 0.1), "hidden_act": act,
            "embedding": "word_pos", "tgt_embedding": "word_pos", "share_embedding": True,
            "encoder": "transformer", "mask": "fully_visible", "decoder": "transformer",
            "layernorm_positioning": "post", "layer_norm_unbiased": False, "layer_norm_eps": 1e-5,
            "target": "lm", "has_lmtarget_bias": True, "tie_weights": True,
            "decoder_start_token_id": config.get("decoder_start_token_id", 2)}


def config_from_uer(config, vocab_size):
    if config.get("decoder") != "transformer" or config.get("layernorm_positioning", "post") != "post" or \
            config.get("position_offset", 0) != 2 or config.get("layer_norm_unbiased", True):
        raise UserInputError("not a BART-style UER config: needs \"decoder\": \"transformer\", post-LN layers, "
                             "\"position_offset\": 2 and the standard layer norm (\"layer_norm_unbiased\": false)")
    return {"architectures": ["BartForConditionalGeneration"], "model_type": "bart", "vocab_size": vocab_size,
            "d_model": config["hidden_size"], "encoder_layers": config["layers_num"],
            "decoder_layers": config["decoder_layers_num"], "encoder_attention_heads": config["heads_num"],
            "decoder_attention_heads": config["heads_num"], "encoder_ffn_dim": config["feedforward_size"],
            "decoder_ffn_dim": config["feedforward_size"], "max_position_embeddings": config["max_seq_length"],
            "activation_function": config.get("hidden_act", "gelu"), "dropout": config.get("dropout", 0.1),
            "scale_embedding": False, "tie_word_embeddings": True, "is_encoder_decoder": True,
            "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2}
