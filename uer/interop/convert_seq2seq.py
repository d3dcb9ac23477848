"""Encoder-decoder models between HuggingFace and UER: T5ForConditionalGeneration (convert_t5.py) and
BartForConditionalGeneration (convert_bart.py), chosen by the HF config's model_type one way and by the UER
config's blocks the other."""
from uer.core.errors import UserInputError
from uer.interop import convert_bart, convert_t5

FAMILIES = {"t5": convert_t5, "bart": convert_bart}


def family_of_hf(config, source):
    kind = config.get("model_type")
    if kind not in FAMILIES:
        raise UserInputError(f"{source}: model_type {kind!r} is not an encoder-decoder model converted here; "
                             f"expected one of {', '.join(FAMILIES)}")
    return FAMILIES[kind]


def family_of_uer(config):
    return convert_t5 if config.get("relative_position_embedding") else convert_bart


def hf_config_to_uer(config, source):
    return family_of_hf(config, source).hf_config_to_uer(config, source)
