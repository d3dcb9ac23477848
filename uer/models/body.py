"""The body every model shares: embedding + encoder (+ subencoder) built from the config, with the checks that
refuse a config the chosen parts would misread, and UER's initialisation. It sits below the heads of
uer/models/ (which take it) and uer/model_builder.py (which adds the pre-training targets)."""
import json

import torch.nn as nn

from uer.encoders import str2encoder
from uer.encoders.transformer_encoder import TransformerEncoder
from uer.layers import str2embedding
from uer.layers.position import POSITION_FLAGS, position_scheme, str2position
from uer.subencoders import str2subencoder
from uer.core.errors import UserInputError
from uer.text.subword import char_table
from uer.text.vocab import Vocab
from uer.core.model_config import model_config


def init_weights(model, args=None):
    """UER's initialisation: N(0, 0.02) for every parameter except layer-norm gamma/beta; with the config's
    "initializer": "t5", T5's instead (t5_std)."""
    args = model_config(args)
    t5 = args.initializer == "t5"
    for name, p in model.named_parameters():
        if "gamma" in name or "beta" in name or (t5 and p.dim() == 1 and "norm" in name):
            continue
        nn.init.normal_(p, 0.0, t5_std(name, p, args) if t5 else 0.02)


def t5_std(name, p, args):
    """T5's initialisation (as transformers' T5PreTrainedModel): word embeddings and an output layer N(0, 1);
    a linear layer's weight N(0, fan_in^-0.5), queries also divided by sqrt(head size) (T5 does not scale its
    attention scores); relative position biases N(0, hidden_size^-0.5); biases 0. A model trained from scratch
    learns far sooner than from N(0, 0.02)."""
    if p.dim() == 1:
        return 0.0
    if "word_embedding" in name or name == "target.output_layer.weight":
        return 1.0
    if "relative_attention_bias" in name:
        return args.hidden_size ** -0.5
    if name.endswith("linear_layers.0.weight"):
        return (p.size(1) * p.size(0) / args.heads_num) ** -0.5
    return p.size(1) ** -0.5


STRUCTURE_FLAGS = ("bidirectional", "factorized_embedding_parameterization", "parameter_sharing")


def check_flags(args):
    """Reject structural flags that the chosen encoder would silently ignore."""
    accepted = getattr(str2encoder[args.encoder], "accepted_flags", ())
    for flag in STRUCTURE_FLAGS:
        if getattr(args, flag, False) and flag not in accepted:
            takers = [e for e, c in sorted(str2encoder.items()) if flag in getattr(c, "accepted_flags", ())]
            raise UserInputError(f"--{flag} does not apply to --encoder {args.encoder} "
                                 f"(it applies to: {', '.join(takers) or 'none'})")


def check_shape_keys(args):
    """The config must give every size the embedding and encoder are built from: a guessed one (12 heads on
    a 384-wide model) would train silently as another model."""
    needed = dict.fromkeys(getattr(str2embedding[args.embedding], "shape_keys", ()) +
                           getattr(str2encoder[args.encoder], "shape_keys", ()))
    missing = [key for key in needed if getattr(args, key, None) is None]
    if missing:
        where = getattr(args, "config_path", None) or "the config (--config_path)"
        raise UserInputError(f"{where}: no {', '.join(json.dumps(k) for k in missing)}; --embedding {args.embedding} "
                             f"--encoder {args.encoder} is built from {', '.join(needed)}")


ATTENTION_KEYS = ("mask", "position", "rotary_position_embedding", "alibi_position_embedding",
                  "attention_head_size", "local_kv_heads_num", "attention_qkv_bias", "remove_attention_scale",
                  "relative_position_embedding", "rope_scaling")
LAYER_KEYS = ("remove_transformer_bias",)


def check_block_keys(args):
    """Transformer block keys that the chosen encoder would ignore, or that contradict each other."""
    args = model_config(args)
    where = getattr(args, "config_path", None) or "the config"
    encoder = str2encoder[args.encoder]
    given = [k for k in ATTENTION_KEYS + LAYER_KEYS + ("feed_forward",) if getattr(args, k, None) not in
             (None, False, "dense")]
    takers = ATTENTION_KEYS if issubclass(encoder, TransformerEncoder) else ()
    if encoder.__name__ == "SyntEncoder" or issubclass(encoder, TransformerEncoder):
        takers += LAYER_KEYS + ("feed_forward",)
    ignored = [k for k in given if k not in takers]
    if ignored:
        raise UserInputError(f"{where}: {', '.join(ignored)} apply to the transformer encoders (bert, gpt, "
                             f"transformer), not to --encoder {args.encoder}")
    if not issubclass(encoder, TransformerEncoder):
        return
    mask = args.mask
    if mask and encoder.fixed_mask and mask != encoder.fixed_mask:
        raise UserInputError(f"{where}: mask {mask!r} contradicts --encoder {args.encoder} (always "
                             f"{encoder.fixed_mask}); use --encoder transformer with the mask")
    kv = args.local_kv_heads_num
    if kv and args.heads_num % kv:
        raise UserInputError(f"{where}: local_kv_heads_num {kv} does not divide heads_num {args.heads_num}")
    head_size = args.attention_head_size
    if not head_size and args.hidden_size % args.heads_num:
        raise UserInputError(f"{where}: hidden_size {args.hidden_size} is not divisible by heads_num "
                             f"{args.heads_num}; give attention_head_size")
    scheme = position_scheme(args, where)
    if scheme:
        str2position[scheme].check(args, where)
    in_place_of_table = scheme and str2position[scheme].replaces_table
    if in_place_of_table and getattr(str2embedding[args.embedding], "learned_positions", False):
        raise UserInputError(f"{where}: {POSITION_FLAGS[scheme]} with the learned position embedding of --embedding "
                             f"{args.embedding}; use the embedding word (TencentPretrain: [\"word\"])")
    if args.rope_scaling and scheme != "rotary":
        raise UserInputError(f"{where}: rope_scaling stretches rotary positions: it needs rotary_position_embedding")
    seq_length = getattr(args, "seq_length", None)
    if in_place_of_table and seq_length and seq_length > args.max_seq_length:
        raise UserInputError(f"--seq_length {seq_length} is longer than the model's max_seq_length "
                             f"{args.max_seq_length} ({where})")


# The embeddings with a table of max_seq_length positions.
POSITION_TABLES = ("bert", "word_pos", "word_sinusoidalpos", "word_sinusoidalpos_tencentpretrain")


def check_sizes(args):
    args = model_config(args)
    if getattr(str2encoder[args.encoder], "emb_size_is_hidden_size", False) and args.emb_size != args.hidden_size \
            and not args.factorized_embedding_parameterization:
        raise UserInputError(f"--encoder {args.encoder} needs emb_size == hidden_size in the config "
                             f"(got {args.emb_size} and {args.hidden_size})")
    seq_length = getattr(args, "seq_length", None)
    if seq_length and args.embedding in POSITION_TABLES and seq_length > args.max_seq_length:
        raise UserInputError(f"--seq_length {seq_length} is longer than the position embedding: "
                             f"{args.max_seq_length} positions (max_seq_length in {args.config_path})")


def build_subencoder(args, vocab):
    args = model_config(args)
    subword_type = args.subword_type
    if subword_type == "none":
        for flag in ("sub_vocab_path", "subencoder"):
            if getattr(args, flag, None):
                raise UserInputError(f"--{flag} has no effect without --subword_type char")
        return None
    if not getattr(args, "sub_vocab_path", None):
        raise UserInputError("--subword_type char needs --sub_vocab_path (a vocabulary of characters)")
    if vocab is None:
        raise UserInputError("--subword_type char needs the word vocabulary (--vocab_path or --spm_model_path)")
    sub_vocab = Vocab.load(args.sub_vocab_path)
    return str2subencoder[args.subencoder or "avg"](args, len(sub_vocab), char_table(vocab, sub_vocab))


def build_body(args, vocab_size, vocab=None, seq2seq=False):
    """(embedding, encoder, subencoder or None): what pre-training and fine-tuning models share.

    `vocab` (a Vocab) is needed only for --subword_type char."""
    args = model_config(args)
    if args.decoder and not seq2seq:
        raise UserInputError(f"{args.config_path}: an encoder-decoder model (\"decoder\"); this script runs "
                             "encoder-only and decoder-only models")
    check_flags(args)
    check_shape_keys(args)
    check_sizes(args)
    check_block_keys(args)
    embedding = str2embedding[args.embedding](args, vocab_size)
    encoder = str2encoder[args.encoder](args)
    return embedding, encoder, build_subencoder(args, vocab)
