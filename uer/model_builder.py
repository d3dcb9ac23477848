import torch.nn as nn

from uer.layers import str2embedding
from uer.encoders import str2encoder
from uer.targets import str2target
from uer.models.model import Model
from uer.utils.errors import UserInputError


def init_weights(model):
    """UER's initialisation: N(0, 0.02) for every parameter except layer-norm gamma/beta."""
    for name, p in model.named_parameters():
        if "gamma" not in name and "beta" not in name:
            nn.init.normal_(p, 0.0, 0.02)


def tie_weights(model):
    layer = getattr(model.target, "output_layer_to_tie", None)
    if layer is None:
        raise UserInputError(f"--tie_weights: target {type(model.target).__name__} has no word output layer")
    out = layer()
    emb = model.embedding.word_embedding
    if out.weight.shape != emb.weight.shape:
        raise UserInputError(f"--tie_weights needs the output layer {tuple(out.weight.shape)} and the word "
                             f"embedding {tuple(emb.weight.shape)} to have the same shape (emb_size == hidden_size)")
    out.weight = emb.weight


STRUCTURE_FLAGS = ("bidirectional", "factorized_embedding_parameterization", "parameter_sharing")


def check_flags(args):
    """Reject structural flags that the chosen encoder would silently ignore."""
    accepted = getattr(str2encoder[args.encoder], "accepted_flags", ())
    for flag in STRUCTURE_FLAGS:
        if getattr(args, flag, False) and flag not in accepted:
            raise UserInputError(f"--{flag} does not apply to --encoder {args.encoder} "
                                 f"(it applies to: {', '.join(e for e, c in sorted(str2encoder.items()) if flag in getattr(c, 'accepted_flags', ())) or 'none'})")


def build_model(args, vocab_size):
    check_flags(args)
    embedding = str2embedding[args.embedding](args, vocab_size)
    encoder = str2encoder[args.encoder](args)
    target = str2target[args.target](args, vocab_size)
    model = Model(args, embedding, encoder, target)
    init_weights(model)
    if getattr(args, "tie_weights", False):
        tie_weights(model)
    return model
