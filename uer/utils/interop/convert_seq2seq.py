"""Encoder-decoder models between HuggingFace and UER: T5ForConditionalGeneration (convert_t5.py) and
BartForConditionalGeneration (convert_bart.py), chosen by the HF config's model_type one way and by the UER
config's blocks the other."""
import torch

from uer.utils.errors import UserInputError
from uer.utils.interop import convert_bart, convert_t5

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


def hf_to_uer(tensors, rename):
    """{UER name: tensor} of (HF name, tensor) pairs renamed by rename(name) (None: a copy HF also saves), with
    the one word embedding shared by both stacks and the output layer where HF ties it."""
    out, copies = {}, {}
    for name, tensor in tensors:
        uer = rename(name)
        if uer is None:
            copies[name] = tensor
        else:
            out[uer] = tensor
    if "embedding.word_embedding.weight" not in out:
        raise UserInputError("the HF weights have no shared word embedding (shared.weight / model.shared.weight)")
    shared = out["embedding.word_embedding.weight"]
    for name, copy in copies.items():
        if copy.shape != shared.shape or not torch.equal(copy, shared):
            raise UserInputError(f"HF weight {name} differs from the shared word embedding (HF uses it for that "
                                 "stack); one table serves both stacks here, so this model cannot be converted")
    out["tgt_embedding.word_embedding.weight"] = out["embedding.word_embedding.weight"]
    out.setdefault("target.output_layer.weight", out["embedding.word_embedding.weight"])
    return out
