"""The weights of a HF encoder-decoder model in UER's names (the part T5's and BART's converters share)."""
import torch

from uer.core.errors import UserInputError


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
