"""A sentence-transformers BERT model (a folder with modules.json: its Transformer module's BERT weights and
config.json, a Pooling module, perhaps a Normalize one) to the two-tower model of run_classifier_siamese.py and
run_simcse.py: the encoder as the bert family converts it, and the UER config saying how its sentence vectors are
made: "pooling" (mean, first for the CLS token, max) and "normalize_sentence_vectors". The other way is the bert
family's (scripts/convert_bert_from_uer_to_huggingface.py writes the encoder, which sentence-transformers reads
with mean pooling)."""
import json
import os

from uer.core.errors import UserInputError
from uer.interop import convert_bert
from uer.interop.hf_files import iter_tensors

WITHOUT_CONFIG = None
POOLINGS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "first", "pooling_mode_max_tokens": "max"}


def modules(folder):
    path = os.path.join(folder, "modules.json")
    if not os.path.exists(path):
        raise UserInputError(f"{folder}: no modules.json: not a sentence-transformers model folder")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def module_path(folder, kind):
    found = [m.get("path", "") for m in modules(folder) if str(m.get("type", "")).endswith(f".{kind}")]
    return os.path.join(folder, found[0]) if found else None


def model_folder(path):
    return path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))


def read(path):
    """The weights of the Transformer module."""
    transformer = module_path(model_folder(path), "Transformer")
    if transformer is None:
        raise UserInputError(f"{path}: modules.json names no Transformer module")
    yield from iter_tensors(transformer)


def to_uer(tensors, hf_config=None, layers_num=None):
    return convert_bert.to_uer(tensors, hf_config, layers_num)


def from_uer(state, hf_config=None, layers_num=None):
    raise UserInputError("UER to sentence-transformers: write the encoder with "
                         "scripts/convert_bert_from_uer_to_huggingface.py (sentence-transformers reads it with mean "
                         "pooling)")


def config_to_uer(config, source):
    folder = os.path.dirname(os.path.abspath(source))
    while not os.path.exists(os.path.join(folder, "modules.json")) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)  # config.json is the Transformer module's, maybe in a sub-folder
    pooling_path = module_path(folder, "Pooling")
    if pooling_path is None:
        raise UserInputError(f"{folder}: modules.json names no Pooling module")
    with open(os.path.join(pooling_path, "config.json"), encoding="utf-8") as f:
        pooling = json.load(f)
    modes = [mode for key, mode in POOLINGS.items() if pooling.get(key)]
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v and k not in POOLINGS]
    if len(modes) != 1 or others:
        raise UserInputError(f"{pooling_path}: pooling {', '.join(modes + others) or 'none'}; one of mean, CLS token "
                             "or max is converted")
    out = convert_bert.config_to_uer(config, source)
    out.update(pooling=modes[0], normalize_sentence_vectors=module_path(folder, "Normalize") is not None)
    return out


def config_from_uer(config, vocab_size):
    return convert_bert.config_from_uer(config, vocab_size)
