from uer.layers import str2embedding
from uer.layers.embeddings import add_lookup_gradients_into_output_layer
from uer.targets import str2target
from uer.models.body import build_body, init_weights  # noqa: F401 -- build_body: also imported from here
from uer.models.model import Model
from uer.models.seq2seq import Seq2seqModel
from uer.decoders import str2decoder
from uer.core.errors import UserInputError
from uer.core.model_config import model_config


def tie_weights(model, sharded=False):
    """The output layer's weight is the word table; sharded (--fsdp): FSDP replaces the parameter, and the hook
    that makes a rows-only lookup gradient dense with it, so the lookups keep their dense gradients."""
    layer = getattr(model.target, "output_layer_to_tie", None)
    if layer is None:
        raise UserInputError(f"--tie_weights: target {type(model.target).__name__} has no word output layer")
    out = layer()
    emb = getattr(model, "tgt_embedding", model.embedding).word_embedding  # a decoder's own input embedding
    if out.weight.shape != emb.weight.shape:
        raise UserInputError(f"--tie_weights needs the output layer {tuple(out.weight.shape)} and the word "
                             f"embedding {tuple(emb.weight.shape)} to have the same shape (emb_size == hidden_size)")
    out.weight = emb.weight
    if not sharded:
        add_lookup_gradients_into_output_layer(model, emb.weight)


CAUSAL_ENCODERS = "gpt, lstm, gru, cnn, gatedcnn, rcnn or crnn"


def check_pairing(args, encoder):
    """Refuse encoder/target pairs that would train on leaked targets."""
    args = model_config(args)
    if args.target == "lm" and not encoder.causal:
        raise UserInputError(f"--target lm predicts each next token, but --encoder {args.encoder}"
                             f"{' --bidirectional' if args.bidirectional else ''} lets every "
                             f"position see the tokens after it; use a causal encoder ({CAUSAL_ENCODERS})")
    if args.target == "bilm" and not getattr(encoder, "directions_split", False):
        raise UserInputError(f"--target bilm needs an encoder whose output halves are a forward and a backward "
                             f"model: --encoder bilstm (or lstm/gru --bidirectional with layers_num 1), "
                             f"not --encoder {args.encoder}")


def build_seq2seq(args, vocab_size, tgt_vocab_size=None):
    """Seq2seqModel of args.embedding/encoder, args.tgt_embedding/decoder and the lm target (over the target
    vocabulary when it has its own)."""
    args = model_config(args)
    where = getattr(args, "config_path", None) or "the config"
    tgt_vocab_size = tgt_vocab_size or vocab_size
    if args.share_embedding and tgt_vocab_size != vocab_size:
        raise UserInputError(f"{where}: \"share_embedding\" needs one vocabulary for both sides, but the target "
                             f"has its own ({tgt_vocab_size} tokens, the source {vocab_size})")
    if not args.decoder_layers_num:
        raise UserInputError(f"{where}: \"decoder\" without \"decoder_layers_num\"")
    if args.target != "lm":
        raise UserInputError(f"{where}: an encoder-decoder model predicts with the lm target, not {args.target!r}")
    embedding, encoder, _ = build_body(args, vocab_size, seq2seq=True)
    if encoder.causal or not hasattr(encoder, "attention_mask"):
        raise UserInputError(f"{where}: the encoder of an encoder-decoder model is a fully visible transformer")
    tgt_embedding = str2embedding[args.tgt_embedding or args.embedding](args, tgt_vocab_size)
    model = Seq2seqModel(embedding, encoder, tgt_embedding, str2decoder[args.decoder](args),
                         str2target["lm"](args, tgt_vocab_size))
    init_weights(model, args)
    if args.share_embedding:
        model.tgt_embedding.word_embedding.weight = model.embedding.word_embedding.weight
    if args.tie_weights:
        tie_weights(model, getattr(args, "fsdp", False))
    return model


def units_to_shard(model, args):
    """--fsdp: the transformer layers, each to be sharded as a unit of its own (the root takes the rest)."""
    args = model_config(args)
    from uer.layers.transformer import TransformerLayer
    layers = [m for m in model.modules() if isinstance(m, TransformerLayer)]
    if not layers:
        raise UserInputError(f"--fsdp shards transformer layers, and the {args.encoder} encoder has none; train it "
                             "without --fsdp (DDP keeps a full copy per process)")
    if args.parameter_sharing:
        raise UserInputError("--fsdp with --parameter_sharing: the one shared layer runs layers_num times in each "
                             "pass, which FSDP's per-layer units cannot shard; drop one of the two")
    return layers


def build_model(args, vocab_size, vocab=None, tgt_vocab_size=None):
    """Pre-training Model of args.embedding/encoder/target (a Seq2seqModel when the config has a decoder)."""
    args = model_config(args)
    if args.decoder:
        return build_seq2seq(args, vocab_size, tgt_vocab_size)
    embedding, encoder, subencoder = build_body(args, vocab_size, vocab)
    check_pairing(args, encoder)
    target = str2target[args.target](args, vocab_size)
    model = Model(args, embedding, encoder, target, subencoder)
    init_weights(model, args)
    if args.tie_weights:
        tie_weights(model, getattr(args, "fsdp", False))
    return model


def build_for_probing(args, vocab, path, target=None, tgt_vocab=None):
    """A trained model for the scripts, in eval mode: the full Model when a target (e.g. mlm, lm) is needed,
    else embedding + encoder only. Weights come from `path` (missing or unexpected keys are reported)."""
    from uer.model_loader import load_model
    from uer.models.model import Body
    if target:
        model = build_model(model_config(args, target=target), len(vocab), vocab,
                            len(tgt_vocab) if tgt_vocab is not None else None)
    else:
        model = Body(*build_body(args, len(vocab), vocab))
    load_model(model, path, ignore_prefixes=("target.", "output_layer") if not target else ())
    return model.eval()
