"""ALBERT (AlbertForPreTraining, AlbertModel) between HuggingFace's names and UER's: the factorized embedding
(`encoder.linear`, HF's embedding_hidden_mapping_in), one shared layer (`encoder.transformer`, HF's single layer
group of one layer), the MLM head (its decoder tied to the word embedding) with the config's activation
("mlm_hidden_act"), and the SOP head on the pooler. The standard layer norm ("layer_norm_unbiased": false, eps
1e-12) and one zero segment row first, as for BERT."""
import torch

from uer.core.errors import UserInputError

WITHOUT_CONFIG = None
SHARED = "albert.encoder.albert_layer_groups.0.albert_layers.0."
NAMES = {"albert.embeddings.word_embeddings.weight": "embedding.word_embedding.weight",
         "albert.embeddings.position_embeddings.weight": "embedding.position_embedding.weight",
         "albert.embeddings.LayerNorm.weight": "embedding.layer_norm.gamma",
         "albert.embeddings.LayerNorm.bias": "embedding.layer_norm.beta",
         "albert.encoder.embedding_hidden_mapping_in.weight": "encoder.linear.weight",
         "albert.encoder.embedding_hidden_mapping_in.bias": "encoder.linear.bias",
         "albert.pooler.weight": "target.sop_linear_1.weight", "albert.pooler.bias": "target.sop_linear_1.bias",
         "sop_classifier.classifier.weight": "target.sop_linear_2.weight",
         "sop_classifier.classifier.bias": "target.sop_linear_2.bias",
         "predictions.dense.weight": "target.mlm_linear_1.weight", "predictions.dense.bias": "target.mlm_linear_1.bias",
         "predictions.LayerNorm.weight": "target.layer_norm.gamma", "predictions.LayerNorm.bias": "target.layer_norm.beta",
         "predictions.decoder.weight": "target.mlm_linear_2.weight", "predictions.bias": "target.mlm_linear_2.bias"}
LAYER = {"attention.query": "self_attn.linear_layers.0", "attention.key": "self_attn.linear_layers.1",
         "attention.value": "self_attn.linear_layers.2", "attention.dense": "self_attn.final_linear",
         "ffn": "feed_forward.linear_1", "ffn_output": "feed_forward.linear_2"}
LAYER_NORMS = {"attention.LayerNorm": "layer_norm_1", "full_layer_layer_norm": "layer_norm_2"}
for hf, uer in LAYER.items():
    NAMES.update({f"{SHARED}{hf}.weight": f"encoder.transformer.{uer}.weight",
                  f"{SHARED}{hf}.bias": f"encoder.transformer.{uer}.bias"})
for hf, uer in LAYER_NORMS.items():
    NAMES.update({f"{SHARED}{hf}.weight": f"encoder.transformer.{uer}.gamma",
                  f"{SHARED}{hf}.bias": f"encoder.transformer.{uer}.beta"})
TOKEN_TYPES = "albert.embeddings.token_type_embeddings.weight"


def to_uer(tensors, hf_config=None, layers_num=None):
    state = {}
    for name, tensor in tensors:
        if name == TOKEN_TYPES:
            state["embedding.segment_embedding.weight"] = torch.cat([torch.zeros_like(tensor[:1]), tensor], 0)
        elif name in NAMES:
            state[NAMES[name]] = tensor
        elif name != "predictions.decoder.bias":  # the same tensor as predictions.bias
            raise UserInputError(f"HuggingFace weight {name} has no place in a UER ALBERT model (one layer group of "
                                 "one layer is converted)")
    if "target.mlm_linear_2.bias" in state:  # the decoder is tied to the word embedding: files leave it out
        state.setdefault("target.mlm_linear_2.weight", state["embedding.word_embedding.weight"])
    return state


def from_uer(state, hf_config=None, layers_num=None):
    inverse = {uer: hf for hf, uer in NAMES.items()}
    out = {}
    for name, tensor in state.items():
        if name == "embedding.segment_embedding.weight":
            out[TOKEN_TYPES] = tensor[1:]
        elif name in inverse:
            out[inverse[name]] = tensor
        else:
            raise UserInputError(f"UER weight {name} has no place in a HuggingFace ALBERT model")
    if "predictions.bias" in out:
        out["predictions.decoder.bias"] = out["predictions.bias"]
    return {k: v.contiguous() for k, v in out.items()}


def config_to_uer(config, source):
    if config.get("num_hidden_groups", 1) != 1 or config.get("inner_group_num", 1) != 1:
        raise UserInputError(f"{source}: num_hidden_groups and inner_group_num other than 1 are not supported")
    from uer.layers.position_ffn import ACTIVATIONS
    act = config.get("hidden_act", "gelu_new")
    if act not in ACTIVATIONS:
        raise UserInputError(f"{source}: hidden_act {act!r} is not supported; {', '.join(ACTIVATIONS)}")
    return {"emb_size": config["embedding_size"], "hidden_size": config["hidden_size"],
            "feedforward_size": config["intermediate_size"], "heads_num": config["num_attention_heads"],
            "layers_num": config["num_hidden_layers"], "max_seq_length": config.get("max_position_embeddings", 512),
            "dropout": config.get("hidden_dropout_prob", 0.0), "hidden_act": act, "mlm_hidden_act": act,
            "factorized_embedding_parameterization": True, "parameter_sharing": True,
            "layer_norm_unbiased": False, "layer_norm_eps": config.get("layer_norm_eps", 1e-12),
            "embedding": "bert", "encoder": "bert", "target": "albert", "tie_weights": True}


def config_from_uer(config, vocab_size):
    if not (config.get("factorized_embedding_parameterization") and config.get("parameter_sharing")):
        raise UserInputError("not an ALBERT UER config: factorized_embedding_parameterization and "
                             "parameter_sharing are ALBERT's")
    act = config.get("hidden_act", "gelu")
    if config.get("mlm_hidden_act", act) != act:
        raise UserInputError("HF ALBERT's MLM head applies hidden_act: the config's mlm_hidden_act must be it")
    return {"architectures": ["AlbertForPreTraining"], "model_type": "albert", "vocab_size": vocab_size,
            "embedding_size": config["emb_size"], "hidden_size": config["hidden_size"],
            "num_hidden_layers": config["layers_num"], "num_attention_heads": config["heads_num"],
            "intermediate_size": config["feedforward_size"], "hidden_act": act, "num_hidden_groups": 1,
            "inner_group_num": 1, "max_position_embeddings": config.get("max_seq_length", 512), "type_vocab_size": 2,
            "hidden_dropout_prob": config.get("dropout", 0.0), "attention_probs_dropout_prob": config.get("dropout", 0.0),
            "layer_norm_eps": config.get("layer_norm_eps", 1e-12), "pad_token_id": 0}
