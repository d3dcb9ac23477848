"""The google family: BERT weights between Google's TensorFlow checkpoint names and UER's (through the HuggingFace names).

Google stores dense layers as `kernel` [in, out] (the transpose of a torch Linear weight) and ties the MLM
output matrix to the word embeddings. Two extra variables, which Google's code never reads, keep a round trip
exact: `uer/segment_padding_embedding` (UER's padding row of the segment embedding) and
`uer/mlm_output_weights` (the MLM output matrix when it is not the word embedding). TensorFlow is needed only
here: `pip install tensorflow-cpu`.
"""
import re

import numpy as np
import torch

from uer.interop import convert_bert
from uer.core.errors import UserInputError

# Google's bert_config.json has HF BERT's fields
config_to_uer, config_from_uer, WITHOUT_CONFIG = convert_bert.config_to_uer, convert_bert.config_from_uer, \
    convert_bert.WITHOUT_CONFIG
SEGMENT_PAD = "uer/segment_padding_embedding"
MLM_OUTPUT = "uer/mlm_output_weights"


def tensorflow():
    try:
        import tensorflow as tf
    except ImportError:
        raise UserInputError("converting Google TensorFlow checkpoints needs TensorFlow: pip install tensorflow-cpu "
                             "(only these two scripts use it)") from None
    return tf


def is_training_state(name):
    """Whether a checkpoint variable is the optimizer's (Adam's or LAMB's slots, the step), not the model's."""
    return name == "global_step" or name.endswith(("/adam_m", "/adam_v")) or "AdamWeightDecayOptimizer" in name


def hf_name_to_google(name):
    """(Google variable name, transpose?) of a HuggingFace BERT key, or None for keys Google does not store."""
    if name in ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias"):
        return None
    special = {"cls.predictions.bias": "cls/predictions/output_bias",
               "cls.seq_relationship.weight": "cls/seq_relationship/output_weights",
               "cls.seq_relationship.bias": "cls/seq_relationship/output_bias"}
    if name in special:
        return special[name], False
    path = re.sub(r"layer\.(\d+)", r"layer_\1", name).replace(".", "/")
    if path.endswith("embeddings/weight"):
        return path[:-len("/weight")], False
    if "LayerNorm" in path:
        return path.replace("/weight", "/gamma").replace("/bias", "/beta"), False
    if path.endswith("/weight"):
        return path[:-len("/weight")] + "/kernel", True
    return path, False


def from_uer(state, hf_config=None, layers_num=None):
    """{Google variable name: numpy array} of a UER BERT state_dict."""
    arrays = {}
    for key, value in convert_bert.from_uer(state).items():
        target = hf_name_to_google(key)
        if target:
            name, transpose = target
            arrays[name] = (value.t() if transpose else value).contiguous().numpy()
    arrays[SEGMENT_PAD] = state["embedding.segment_embedding.weight"][:1].numpy()
    output = state.get("target.mlm_linear_2.weight")
    if output is not None and not torch.equal(output, state["embedding.word_embedding.weight"]):
        arrays[MLM_OUTPUT] = output.numpy()
    return arrays


def to_uer(arrays, hf_config=None, layers_num=None):
    """UER state_dict from (Google variable name, numpy array) pairs (optimizer slots are ignored); layers_num,
    when given, must be the checkpoint's."""
    arrays, hf = dict(arrays), {}
    for name, value in arrays.items():
        if name.startswith("uer/") or is_training_state(name):
            continue
        key = re.sub(r"layer_(\d+)", r"layer.\1", name).replace("/", ".")
        tensor = torch.from_numpy(np.array(value))
        if key.endswith(".kernel"):
            key, tensor = key[:-len(".kernel")] + ".weight", tensor.t().contiguous()
        key = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", key))
        key = {"cls.predictions.output_bias": "cls.predictions.bias",
               "cls.seq_relationship.output_weights": "cls.seq_relationship.weight",
               "cls.seq_relationship.output_bias": "cls.seq_relationship.bias"}.get(key, key)
        if key.endswith("embeddings"):
            key += ".weight"
        hf[key] = tensor
    if "cls.predictions.bias" in hf:
        hf["cls.predictions.decoder.weight"] = torch.from_numpy(np.array(arrays[MLM_OUTPUT])) \
            if MLM_OUTPUT in arrays else hf["bert.embeddings.word_embeddings.weight"]
    state = convert_bert.to_uer(hf.items())
    if SEGMENT_PAD in arrays:
        state["embedding.segment_embedding.weight"][:1] = torch.from_numpy(np.array(arrays[SEGMENT_PAD]))
    found = convert_bert.uer_layers(state)
    if layers_num is not None and found != layers_num:
        raise UserInputError(f"the checkpoint has {found} layers, not --layers_num {layers_num}")
    return state


def read_checkpoint(path):
    """(variable name, numpy array) pairs of a TensorFlow checkpoint (its prefix)."""
    tf = tensorflow()
    try:
        reader = tf.train.load_checkpoint(path)
    except Exception as e:  # noqa: BLE001 -- TensorFlow raises several types for a bad path
        raise UserInputError(f"{path}: not a readable TensorFlow checkpoint ({type(e).__name__})") from None
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}.items()


def write_checkpoint(arrays, path):
    """A TF1-style checkpoint (path.index, path.data-*) holding the (name, array) pairs as variables; returns
    their number."""
    tf = tensorflow()
    with tf.Graph().as_default():
        variables = [tf.compat.v1.Variable(value, name=name) for name, value in arrays]
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, path, write_meta_graph=False)
    return len(variables)
