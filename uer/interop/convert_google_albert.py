"""The google_albert family: ALBERT weights between Google's TensorFlow checkpoint names (google-research/albert)
and UER's, through the HuggingFace ALBERT names of convert_albert.

Google's variables: `bert/embeddings/*`, the factorized embedding's `bert/encoder/embedding_hidden_mapping_in`,
the shared layer under `bert/encoder/transformer/group_0/inner_group_0/` (`attention_1/self/{query,key,value}`,
`attention_1/output/dense`, `LayerNorm` after attention, `ffn_1/intermediate/dense` and
`ffn_1/intermediate/output/dense`, `LayerNorm_1` after the feed-forward), `bert/pooler/dense`, the MLM head
`cls/predictions/{transform/dense, transform/LayerNorm, output_bias}` (its output matrix is the word embedding)
and the SOP head `cls/seq_relationship/output_{weights,bias}`. Dense layers are stored as `kernel` [in, out].
A TF-Hub export's `module/` prefix and the optimizer's slots are skipped. Google's config calls its tanh
approximation of GELU "gelu": UER's "gelu_new". TensorFlow is needed to read and write the files
(`pip install tensorflow-cpu`), as for Google's BERT.
"""
import numpy as np
import torch

from uer.core.errors import UserInputError
from uer.interop import convert_albert, convert_google

WITHOUT_CONFIG = None
LAYER = "bert/encoder/transformer/group_0/inner_group_0/"
SHARED = convert_albert.SHARED
EMBEDDINGS = {"albert.embeddings.word_embeddings": "bert/embeddings/word_embeddings",
              "albert.embeddings.position_embeddings": "bert/embeddings/position_embeddings",
              "albert.embeddings.token_type_embeddings": "bert/embeddings/token_type_embeddings"}
DENSE = {"albert.encoder.embedding_hidden_mapping_in": "bert/encoder/embedding_hidden_mapping_in",
         f"{SHARED}attention.query": f"{LAYER}attention_1/self/query",
         f"{SHARED}attention.key": f"{LAYER}attention_1/self/key",
         f"{SHARED}attention.value": f"{LAYER}attention_1/self/value",
         f"{SHARED}attention.dense": f"{LAYER}attention_1/output/dense",
         f"{SHARED}ffn": f"{LAYER}ffn_1/intermediate/dense",
         f"{SHARED}ffn_output": f"{LAYER}ffn_1/intermediate/output/dense",
         "albert.pooler": "bert/pooler/dense", "predictions.dense": "cls/predictions/transform/dense"}
NORMS = {"albert.embeddings.LayerNorm": "bert/embeddings/LayerNorm",
         f"{SHARED}attention.LayerNorm": f"{LAYER}LayerNorm", f"{SHARED}full_layer_layer_norm": f"{LAYER}LayerNorm_1",
         "predictions.LayerNorm": "cls/predictions/transform/LayerNorm"}
# Google's defaults for the config keys of structures not built here
PLAIN_STRUCTURE = {"net_structure_type": 0, "down_scale_factor": 1, "num_memory_blocks": 0}
ACTIVATIONS = {"gelu": "gelu_new", "relu": "relu"}  # Google's name -> UER's


def hf_to_google():
    """{HuggingFace ALBERT weight name: (Google variable name, whether the tensor is transposed)}."""
    names = {f"{hf}.weight": (google, False) for hf, google in EMBEDDINGS.items()}
    for hf, google in DENSE.items():
        names.update({f"{hf}.weight": (f"{google}/kernel", True), f"{hf}.bias": (f"{google}/bias", False)})
    for hf, google in NORMS.items():
        names.update({f"{hf}.weight": (f"{google}/gamma", False), f"{hf}.bias": (f"{google}/beta", False)})
    names.update({"predictions.bias": ("cls/predictions/output_bias", False),
                  "sop_classifier.classifier.weight": ("cls/seq_relationship/output_weights", False),
                  "sop_classifier.classifier.bias": ("cls/seq_relationship/output_bias", False)})
    return names


NAMES = hf_to_google()


def to_uer(arrays, google_config=None, layers_num=None):
    """UER state_dict from (Google variable name, numpy array) pairs."""
    from_google = {google: (hf, transpose) for hf, (google, transpose) in NAMES.items()}
    tensors, extras = [], {}
    for name, value in arrays:
        name = name[len("module/"):] if name.startswith("module/") else name
        if name.startswith("uer/"):
            extras[name] = value
            continue
        if convert_google.is_training_state(name):
            continue
        if name not in from_google:
            raise UserInputError(f"Google ALBERT variable {name} has no place in a UER ALBERT model (one layer group "
                                 "of one layer is converted)")
        key, transpose = from_google[name]
        tensor = torch.from_numpy(np.array(value))
        tensors.append((key, tensor.t().contiguous() if transpose else tensor))
    state = convert_albert.to_uer(tensors)
    if convert_google.SEGMENT_PAD in extras and "embedding.segment_embedding.weight" in state:
        state["embedding.segment_embedding.weight"][:1] = torch.from_numpy(np.array(extras[convert_google.SEGMENT_PAD]))
    return state


def from_uer(state, google_config=None, layers_num=None):
    """{Google variable name: numpy array} of a UER ALBERT state_dict (its MLM output matrix must be the word
    embedding, as Google's is)."""
    output, words = state.get("target.mlm_linear_2.weight"), state.get("embedding.word_embedding.weight")
    if output is not None and not torch.equal(output, words):
        raise UserInputError("Google's ALBERT uses the word embedding as its MLM output matrix; this model has one "
                             "of its own (trained without tie_weights)")
    arrays = {}
    for key, tensor in convert_albert.from_uer(state).items():
        if not key.startswith("predictions.decoder."):
            name, transpose = NAMES[key]
            arrays[name] = (tensor.t() if transpose else tensor).contiguous().numpy()
    if "embedding.segment_embedding.weight" in state:
        arrays[convert_google.SEGMENT_PAD] = state["embedding.segment_embedding.weight"][:1].numpy()
    return arrays


def config_to_uer(config, source):
    """A UER config from Google's albert_config.json."""
    for key, plain in PLAIN_STRUCTURE.items():
        if config.get(key, plain) != plain:
            raise UserInputError(f"{source}: {key} {config[key]!r} is not built here (only {plain})")
    act = config.get("hidden_act", "gelu")
    if act not in ACTIVATIONS:
        raise UserInputError(f"{source}: hidden_act {act!r} is not built here; Google's ALBERT names "
                             f"{', '.join(ACTIVATIONS)} are")
    return convert_albert.config_to_uer(dict(config, hidden_act=ACTIVATIONS[act]), source)


def config_from_uer(config, vocab_size):
    """Google's albert_config.json of a UER ALBERT config."""
    if config.get("layer_norm_eps", 1e-12) != 1e-12:
        raise UserInputError(f"layer_norm_eps {config['layer_norm_eps']}: Google's ALBERT code uses 1e-12")
    hf = convert_albert.config_from_uer(config, vocab_size)
    google_act = {uer: google for google, uer in ACTIVATIONS.items()}
    google_act["gelu_fast"] = "gelu"
    if hf["hidden_act"] not in google_act:
        raise UserInputError(f"hidden_act {hf['hidden_act']!r} has no Google ALBERT name: its \"gelu\" is the tanh "
                             "approximation (UER's gelu_new), and relu is the other one")
    keys = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_hidden_groups",
            "num_attention_heads", "intermediate_size", "inner_group_num", "hidden_dropout_prob",
            "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size")
    return dict({key: hf[key] for key in keys}, hidden_act=google_act[hf["hidden_act"]], initializer_range=0.02,
                **PLAIN_STRUCTURE)
