"""PEGASUS (PegasusForConditionalGeneration) between HuggingFace's names and UER's: BART's names (uer/interop/
convert_bart.py) for the shared embedding, the layers and the output bias, plus the final layer norm of each
pre-LN stack (`encoder.layer_norm`, `decoder.layer_norm`). UER expresses it as "embedding"/"tgt_embedding":
"word_sinusoidalpos" (transformers' fixed sinusoids, nothing in the file; "embedding_scale" sqrt(d_model) with
scale_embedding) without an embedding layer norm, pre-LN layers with the standard layer norm (eps 1e-5), the lm
target tied to the shared embedding with a bias, and PEGASUS's decoder_start_token_id."""
import torch

from uer.core.errors import UserInputError
from uer.interop import convert_bart
from uer.interop.seq2seq_weights import hf_to_uer as renamed

FINAL_NORMS = {f"model.{stack}.layer_norm.{p}": f"{stack}.layer_norm.{u}" for stack in ("encoder", "decoder")
               for p, u in convert_bart.PARAM.items()}


def hf_name_to_uer(name):
    if name in FINAL_NORMS:
        return FINAL_NORMS[name]
    return convert_bart.hf_name_to_uer(name)


FIXED = ("model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight")


def fixed_positions(name, table):
    """PEGASUS's position tables are the fixed sinusoids the embedding computes: checked, then left out."""
    from uer.layers.embeddings import sinusoids
    if not torch.allclose(table.float(), sinusoids(*table.shape), atol=1e-6):
        raise UserInputError(f"HF weight {name} is not PEGASUS's fixed sinusoids (trained positions?); the "
                             "\"word_sinusoidalpos\" embedding computes them, so this model cannot be converted")
    return False


def to_uer(tensors, hf_config=None, layers_num=None):
    out = renamed(((n, t) for n, t in tensors if n not in FIXED or fixed_positions(n, t)), hf_name_to_uer)
    out["target.output_layer.bias"] = out["target.output_layer.bias"].reshape(-1)
    return out


def from_uer(state, hf_config, layers_num=None):
    inverse = {u: h for h, u in FINAL_NORMS.items()}
    rest = {k: v for k, v in state.items() if k not in inverse}
    out = convert_bart.uer_to_hf(rest)
    out.update({inverse[k]: v.contiguous() for k, v in state.items() if k in inverse})
    from uer.layers.embeddings import sinusoids
    table = sinusoids(hf_config["max_position_embeddings"], hf_config["d_model"])
    out.update({name: table.clone() for name in FIXED})
    return out.items()


def config_to_uer(config, source):
    if config.get("model_type") != "pegasus":
        raise UserInputError(f"{source}: model_type {config.get('model_type')!r} is not PEGASUS")
    bart_like = convert_bart.config_to_uer(dict(config, model_type="bart", scale_embedding=False), source)
    width = config["d_model"]
    bart_like.pop("position_offset")
    bart_like.update(embedding="word_sinusoidalpos", tgt_embedding="word_sinusoidalpos",
                     remove_embedding_layernorm=True, layernorm_positioning="pre",
                     decoder_start_token_id=config.get("decoder_start_token_id", 0))
    if config.get("scale_embedding"):
        bart_like["embedding_scale"] = width ** 0.5
    return bart_like


def config_from_uer(config, vocab_size):
    if config.get("embedding") != "word_sinusoidalpos" or config.get("layernorm_positioning") != "pre" or \
            config.get("layer_norm_unbiased", True):
        raise UserInputError("not a PEGASUS-style UER config: needs \"embedding\": \"word_sinusoidalpos\", pre-LN "
                             "layers and the standard layer norm (\"layer_norm_unbiased\": false)")
    scale = config.get("embedding_scale", 1.0)
    if scale not in (1.0, config["hidden_size"] ** 0.5):
        raise UserInputError(f"embedding_scale {scale}: PEGASUS scales by sqrt(d_model) or not at all")
    bart_like = convert_bart.config_from_uer(dict(config, layernorm_positioning="post", position_offset=2), vocab_size)
    bart_like.update(architectures=["PegasusForConditionalGeneration"], model_type="pegasus",
                     scale_embedding=scale != 1.0, normalize_before=True, pad_token_id=0, eos_token_id=1,
                     bos_token_id=None, decoder_start_token_id=config.get("decoder_start_token_id", 0),
                     forced_eos_token_id=1)
    return bart_like
