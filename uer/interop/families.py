"""The conversion families, chosen by name. Each is a module of uer/interop/ with the same four functions:
to_uer(tensors, source config, layers_num) -> UER state, from_uer(state, its config, layers_num) -> (name,
tensor) pairs, config_to_uer(config, source) and config_from_uer(UER config, vocab_size); and one line here
saying how its files are read and written. A module that can convert weights without the source's config says
why that is not enough in WITHOUT_CONFIG. A new family is one module and one line."""
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

from uer.core.errors import UserInputError
from uer.interop import (convert_albert, convert_bart, convert_bert, convert_bert_heads, convert_bloom, convert_google,
                         convert_google_albert, convert_gpt2, convert_llama,
                         convert_meta_llama, convert_pegasus, convert_sbert, convert_t5, convert_xlmroberta)
from uer.interop.hf_files import iter_tensors, write_weights


@dataclass(frozen=True)
class Family:
    module: ModuleType
    read: Callable = iter_tensors  # path -> (name, tensor) pairs
    write: Callable = write_weights  # (pairs, path) -> how many were written
    config_file: str = "config.json"  # the source's config, beside its weights
    config_flag: str = "hf_config_path"
    layers_flag: bool = False  # --layers_num
    any_weights_file: bool = False  # from UER: a torch .bin too, not only .safetensors
    config_to_source: str = "required"  # from UER: --config_path "required", "optional" or "none"
    check: Callable = lambda: None  # what the family needs installed, checked first


str2family = {
    "bert": Family(convert_bert, layers_flag=True, any_weights_file=True, config_to_source="optional"),
    "gpt2": Family(convert_gpt2, layers_flag=True, any_weights_file=True, config_to_source="optional"),
    "llama": Family(convert_llama),
    "t5": Family(convert_t5),
    "bart": Family(convert_bart),
    "pegasus": Family(convert_pegasus),
    "google": Family(convert_google, convert_google.read_checkpoint, convert_google.write_checkpoint,
                     "bert_config.json", "bert_config_path", layers_flag=True, any_weights_file=True,
                     config_to_source="none", check=convert_google.tensorflow),
    "google_albert": Family(convert_google_albert, convert_google.read_checkpoint, convert_google.write_checkpoint,
                            "albert_config.json", "albert_config_path", any_weights_file=True,
                            config_to_source="optional", check=convert_google.tensorflow),
    **{f"bert_{kind}": Family(convert_bert_heads.head_family(kind), layers_flag=True, any_weights_file=True,
                              config_to_source="optional") for kind in convert_bert_heads.HEADS},
    "bloom": Family(convert_bloom),
    "albert": Family(convert_albert),
    "sbert": Family(convert_sbert, convert_sbert.read, layers_flag=True),
    "xlmroberta": Family(convert_xlmroberta, layers_flag=True, any_weights_file=True),
    "meta_llama": Family(convert_meta_llama, convert_meta_llama.read_checkpoint, convert_meta_llama.write_checkpoint,
                         "params.json", "params_path", any_weights_file=True),
}

SEQ2SEQ = ("t5", "bart", "pegasus")  # the encoder-decoder families, one pair of scripts


def family_of_source(names, config, source):
    """The family of a source config among `names` (one name: that family), by its model_type."""
    if len(names) == 1:
        return str2family[names[0]]
    kind = config.get("model_type")
    if kind not in names:
        raise UserInputError(f"{source}: model_type {kind!r} is not an encoder-decoder model converted here; "
                             f"expected one of {', '.join(names)}")
    return str2family[kind]


def family_of_uer(names, config):
    """The family of a UER config among `names`: T5 has relative positions, PEGASUS fixed sinusoids, BART learned
    ones."""
    if len(names) == 1:
        return str2family[names[0]]
    if config.get("relative_position_embedding"):
        return str2family["t5"]
    return str2family["pegasus" if config.get("embedding") == "word_sinusoidalpos" else "bart"]
