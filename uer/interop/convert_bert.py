"""The bert family: BERT weights and configs between HuggingFace transformers' names and UER's.

UER's segment embedding has 3 rows (0 = padding, 1 = sentence A, 2 = sentence B); HF's token types have 2
(0 = A, 1 = B). Going to UER a zero row is put first; going to HF row 0 is dropped (UER uses it only at padding
positions, whose outputs nothing reads). LayerNorm: HF/Google use the biased variance with eps=1e-12 inside the
square root, which UER computes when the config says "layer_norm_unbiased": false, "layer_norm_eps": 1e-12
(written by the conversion to UER). UER-py's 2020 formula (unbiased std + eps) has no HF equivalent: a model
using it converts with a warning, and HF's outputs then differ slightly (hidden states by ~1e-2).
"""
import re

import torch

from uer.core.errors import UserInputError
from uer.interop.hf_files import count_layers

WITHOUT_CONFIG = ("no UER config written (write one with \"layer_norm_unbiased\": false, \"layer_norm_eps\": 1e-12 "
                  "to compute what the source model computed)")

EMBEDDING = {"embedding.word_embedding.weight": "embeddings.word_embeddings.weight",
             "embedding.position_embedding.weight": "embeddings.position_embeddings.weight",
             "embedding.layer_norm.gamma": "embeddings.LayerNorm.weight",
             "embedding.layer_norm.beta": "embeddings.LayerNorm.bias"}
LAYER = {"self_attn.linear_layers.0": "attention.self.query", "self_attn.linear_layers.1": "attention.self.key",
         "self_attn.linear_layers.2": "attention.self.value", "self_attn.final_linear": "attention.output.dense",
         "feed_forward.linear_1": "intermediate.dense", "feed_forward.linear_2": "output.dense"}
LAYER_NORMS = {"layer_norm_1": "attention.output.LayerNorm", "layer_norm_2": "output.LayerNorm"}
MLM = {"target.mlm_linear_1.weight": "cls.predictions.transform.dense.weight",
       "target.mlm_linear_1.bias": "cls.predictions.transform.dense.bias",
       "target.layer_norm.gamma": "cls.predictions.transform.LayerNorm.weight",
       "target.layer_norm.beta": "cls.predictions.transform.LayerNorm.bias",
       "target.mlm_linear_2.weight": "cls.predictions.decoder.weight",
       "target.mlm_linear_2.bias": "cls.predictions.bias"}
NSP = {"target.nsp_linear_1.weight": "bert.pooler.dense.weight", "target.nsp_linear_1.bias": "bert.pooler.dense.bias",
       "target.nsp_linear_2.weight": "cls.seq_relationship.weight",
       "target.nsp_linear_2.bias": "cls.seq_relationship.bias"}


def name_pairs(layers_num):
    """(UER name, HF name without the "bert." prefix of the body) for the embedding and encoder."""
    pairs = list(EMBEDDING.items())
    for i in range(layers_num):
        for uer, hf in LAYER.items():
            pairs += [(f"encoder.transformer.{i}.{uer}.{p}", f"encoder.layer.{i}.{hf}.{p}") for p in ("weight", "bias")]
        for uer, hf in LAYER_NORMS.items():
            pairs += [(f"encoder.transformer.{i}.{uer}.gamma", f"encoder.layer.{i}.{hf}.weight"),
                      (f"encoder.transformer.{i}.{uer}.beta", f"encoder.layer.{i}.{hf}.bias")]
    return pairs


def normalise_hf(state):
    """HF state_dict with the body under "bert.", LayerNorm weight/bias (old files say gamma/beta) and the MLM
    output bias as cls.predictions.bias (some files hold it only as cls.predictions.decoder.bias)."""
    out = {}
    for key, value in state.items():
        key = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", key))
        if key.startswith(("embeddings.", "encoder.", "pooler.")):
            key = "bert." + key
        out[key] = value
    if "cls.predictions.decoder.bias" in out:
        out.setdefault("cls.predictions.bias", out["cls.predictions.decoder.bias"])
    return out


def hf_layers(state):
    return count_layers(state, r"bert\.encoder\.layer\.(\d+)\.",
                        "no bert.encoder.layer.N weights found: not a HuggingFace BERT model")


def to_uer(tensors, hf_config=None, layers_num=None):
    """UER state_dict from a HuggingFace BERT's (name, tensor) pairs (BertModel, BertForPreTraining or
    BertForMaskedLM)."""
    state = normalise_hf(dict(tensors))
    layers_num = layers_num or hf_layers(state)
    out = {}
    for uer, hf in name_pairs(layers_num):
        if "bert." + hf not in state:
            raise UserInputError(f"HuggingFace weight bert.{hf} is missing (is --layers_num {layers_num} right?)")
        out[uer] = state["bert." + hf]
    types = state["bert.embeddings.token_type_embeddings.weight"]
    out["embedding.segment_embedding.weight"] = torch.cat([torch.zeros_like(types[:1]), types], 0)
    for table in (MLM, NSP):
        if all(hf in state for hf in table.values()):
            out.update({uer: state[hf] for uer, hf in table.items()})
    return out


def uer_layers(state):
    return count_layers(state, r"encoder\.transformer\.(\d+)\.",
                        "no encoder.transformer.N weights found: not a UER BERT model (ALBERT's shared layer has "
                        "no HuggingFace BERT equivalent)")


def from_uer(state, hf_config=None, layers_num=None):
    """HuggingFace BertForPreTraining state_dict (heads included when the UER model has them)."""
    layers_num = layers_num or uer_layers(state)
    out = {}
    for uer, hf in name_pairs(layers_num):
        if uer not in state:
            raise UserInputError(f"UER weight {uer} is missing (is --layers_num {layers_num} right?)")
        out["bert." + hf] = state[uer]
    out["bert.embeddings.token_type_embeddings.weight"] = state["embedding.segment_embedding.weight"][1:]
    for table in (MLM, NSP):
        if all(uer in state for uer in table):
            out.update({hf: state[uer] for uer, hf in table.items()})
    if "cls.predictions.bias" in out:
        out["cls.predictions.decoder.bias"] = out["cls.predictions.bias"]
    return {k: v.contiguous() for k, v in out.items()}


def config_to_uer(config, source="HuggingFace config"):
    """UER config (JSON dict) from a HuggingFace BERT config.json (Google's bert_config.json has the same
    fields)."""
    from uer.layers.position_ffn import ACTIVATIONS
    act = config.get("hidden_act", "gelu")
    if act not in ACTIVATIONS:
        raise UserInputError(f"{source}: hidden_act {act!r} is not supported; expected one of "
                             f"{', '.join(ACTIVATIONS)}")
    return {"emb_size": config["hidden_size"], "hidden_size": config["hidden_size"],
            "feedforward_size": config["intermediate_size"], "heads_num": config["num_attention_heads"],
            "layers_num": config["num_hidden_layers"], "max_seq_length": config.get("max_position_embeddings", 512),
            "dropout": config.get("hidden_dropout_prob", 0.1), "hidden_act": act,
            "layer_norm_unbiased": False, "layer_norm_eps": config.get("layer_norm_eps", 1e-12)}


def config_from_uer(config, vocab_size):
    """HuggingFace BertConfig fields (config.json) from a UER config (values already checked by load_config)."""
    import sys
    if config.get("layer_norm_unbiased", True):
        print("warning: this UER config uses UER-py's 2020 layer norm (unbiased std + eps), which HF BERT cannot "
              "compute; the converted model's outputs will differ slightly (hidden states by ~1e-2)", file=sys.stderr)
    return {"architectures": ["BertForPreTraining"], "model_type": "bert", "vocab_size": vocab_size,
            "hidden_size": config["hidden_size"], "num_hidden_layers": config["layers_num"],
            "num_attention_heads": config["heads_num"], "intermediate_size": config["feedforward_size"],
            "hidden_act": config.get("hidden_act", "gelu"), "hidden_dropout_prob": config.get("dropout", 0.1),
            "attention_probs_dropout_prob": config.get("dropout", 0.1),
            "max_position_embeddings": config.get("max_seq_length", 512), "type_vocab_size": 2,
            "layer_norm_eps": config.get("layer_norm_eps", 1e-6), "initializer_range": 0.02, "pad_token_id": 0}
