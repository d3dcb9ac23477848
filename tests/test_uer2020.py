"""A UER-py (2020) checkpoint with its config file, as they were, computes here what it computed there.

Each case writes one of the original's config files (values copied from ../shared/spec/checkpoint-format.md,
"The 2020 model configs"), parses it the way pretrain.py does, saves a checkpoint with perturbed weights in the
original's key layout, loads it, and compares our outputs with the 2020 forward pass rebuilt here from the
checkpoint's tensors alone (torch functional calls; nothing of uer/ is used for the reference).
"""
import json
import os
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from uer.model_builder import build_model
from uer.model_loader import load_model
from uer.opts import parse

import pretrain
from conftest import ROOT

ORIGINAL_CONFIGS = {
    "albert_base": {"emb_size": 128, "feedforward_size": 3072, "hidden_size": 768, "hidden_act": "relu",
                    "heads_num": 12, "layers_num": 12, "dropout": 0.0},
    "bert_base": {"emb_size": 768, "feedforward_size": 3072, "hidden_size": 768, "hidden_act": "gelu",
                  "heads_num": 12, "layers_num": 12, "dropout": 0.1},
    "bert_tiny": {"emb_size": 384, "feedforward_size": 1536, "hidden_size": 384, "hidden_act": "gelu",
                  "heads_num": 6, "layers_num": 3, "dropout": 0.1},
    "birnn": {"emb_size": 512, "hidden_size": 1536, "layers_num": 2, "dropout": 0.1},
    "cnn": {"emb_size": 512, "hidden_size": 512, "layers_num": 6, "kernel_size": 3, "block_size": 2, "dropout": 0.1},
    "gatedcnn_9": {"emb_size": 128, "hidden_size": 807, "layers_num": 9, "kernel_size": 4, "block_size": 2,
                   "dropout": 0.1},
    "rnn": {"emb_size": 512, "hidden_size": 512, "layers_num": 2, "dropout": 0.1},
}
VOCAB = 60
EPS = 1e-6

# name: (config, extra config keys the spec used, flags)
CASES = {
    "bert+bert": ("bert_base", {}, ["--encoder", "bert", "--target", "bert"]),
    "bert+mlm tiny": ("bert_tiny", {}, ["--encoder", "bert", "--target", "mlm"]),
    "bert+cls tiny": ("bert_tiny", {}, ["--encoder", "bert", "--target", "cls"]),
    "albert relu": ("albert_base", {}, ["--encoder", "bert", "--target", "albert",
                                        "--factorized_embedding_parameterization", "--parameter_sharing"]),
    "gpt+lm": ("bert_base", {}, ["--encoder", "gpt", "--target", "lm"]),
    "attn+mlm": ("bert_base", {}, ["--encoder", "attn", "--target", "mlm"]),
    "lstm": ("rnn", {}, ["--embedding", "word", "--encoder", "lstm", "--target", "lm"]),
    "gru": ("rnn", {}, ["--embedding", "word", "--encoder", "gru", "--target", "lm"]),
    "bilstm+bilm": ("birnn", {}, ["--embedding", "word", "--encoder", "bilstm", "--target", "bilm"]),
    "cnn": ("cnn", {}, ["--embedding", "word", "--encoder", "cnn", "--target", "lm"]),
    "gatedcnn": ("gatedcnn_9", {}, ["--embedding", "word", "--encoder", "gatedcnn", "--target", "lm"]),
    "rcnn": ("rnn", {"kernel_size": 3, "block_size": 2},
             ["--embedding", "word", "--encoder", "rcnn", "--target", "lm"]),
    "crnn": ("rnn", {"kernel_size": 3, "block_size": 2},
             ["--embedding", "word", "--encoder", "crnn", "--target", "lm"]),
}


# -- the 2020 forward pass, from the checkpoint's tensors

def layer_norm(x, state, prefix):
    return state[prefix + "gamma"] * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + EPS) \
        + state[prefix + "beta"]


def linear(x, state, prefix):
    return x @ state[prefix + "weight"].t() + state[prefix + "bias"]


def gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def embedding(state, src, seg, bert):
    emb = state["embedding.word_embedding.weight"][src]
    if bert:
        emb = emb + state["embedding.position_embedding.weight"][:src.size(1)] \
            + state["embedding.segment_embedding.weight"][seg]
    return layer_norm(emb, state, "embedding.layer_norm.")


def attention(h, state, prefix, heads, mask):
    b, n, d = h.shape
    split = lambda x: x.view(b, n, heads, d // heads).transpose(1, 2)  # noqa: E731
    q, k, v = (split(linear(h, state, f"{prefix}linear_layers.{j}.")) for j in range(3))
    scores = q @ k.transpose(-2, -1) / math.sqrt(d // heads) + mask
    return linear((torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, n, d), state, prefix + "final_linear.")


def transformer_encoder(state, emb, seg, config, causal, attn_only=False):
    n = seg.size(1)
    if causal:
        mask = ((1.0 - torch.tril(torch.ones(n, n))) * -10000.0)[None, None]
    else:
        mask = (1.0 - (seg > 0).float()[:, None, None, :]) * -10000.0
    act = {"gelu": gelu, "relu": torch.relu}[config["hidden_act"]]
    h = linear(emb, state, "encoder.linear.") if "encoder.linear.weight" in state else emb
    for i in range(config["layers_num"]):
        if attn_only:
            h = attention(h, state, f"encoder.self_attn.{i}.", config["heads_num"], mask)
            continue
        p = "encoder.transformer." if "encoder.transformer.layer_norm_1.gamma" in state \
            else f"encoder.transformer.{i}."
        inter = layer_norm(attention(h, state, p + "self_attn.", config["heads_num"], mask) + h, state,
                           p + "layer_norm_1.")
        ff = linear(act(linear(inter, state, p + "feed_forward.linear_1.")), state, p + "feed_forward.linear_2.")
        h = layer_norm(ff + inter, state, p + "layer_norm_2.")
    return h


def rnn(kind, state, prefix, x, config, input_size, hidden_size):
    module = getattr(nn, kind)(input_size, hidden_size, config["layers_num"], batch_first=True).to(x.dtype)
    module.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
    return module(x)[0]


def conv_stack(state, x, kernel, gated=False, block_size=2):
    """x [b, n, e]: conv_1 over the full width, then every conv.{i}, each after kernel-1 zeros on the left."""
    b, n, e = x.shape
    pad = lambda h: torch.cat([h.new_zeros(b, h.size(1), kernel - 1, 1), h], 2)  # noqa: E731
    h4 = torch.cat([x.new_zeros(b, kernel - 1, e), x], 1).unsqueeze(1)
    if not gated:
        h = F.conv2d(h4, state["encoder.conv_1.weight"], state["encoder.conv_1.bias"])
        i = 0
        while f"encoder.conv.{i}.weight" in state:
            h = F.conv2d(pad(h), state[f"encoder.conv.{i}.weight"], state[f"encoder.conv.{i}.bias"])
            i += 1
        return h.squeeze(3).transpose(1, 2)
    glu = lambda h, c, g, cb, gb: (F.conv2d(h, state[c + ".weight"], state[c + ".bias"]) + state[cb]) \
        * torch.sigmoid(F.conv2d(h, state[g + ".weight"], state[g + ".bias"]) + state[gb])  # noqa: E731
    h = glu(h4, "encoder.conv_1", "encoder.gate_1", "encoder.conv_b1", "encoder.gate_b1")
    residual = h
    i = 0
    while f"encoder.conv.{i}.weight" in state:
        h = glu(pad(h), f"encoder.conv.{i}", f"encoder.gate.{i}", f"encoder.conv_b.{i}", f"encoder.gate_b.{i}")
        if (i + 1) % block_size == 0:
            h, residual = h + residual, h + residual
        i += 1
    return h.squeeze(3).transpose(1, 2)


def reference_hidden(name, state, config, src, seg):
    encoder = CASES[name][2][CASES[name][2].index("--encoder") + 1]
    emb = embedding(state, src, seg, bert=encoder in ("bert", "gpt", "attn"))
    e, hid = config["emb_size"], config["hidden_size"]
    if encoder in ("bert", "gpt", "attn"):
        return transformer_encoder(state, emb, seg, config, causal=encoder == "gpt", attn_only=encoder == "attn")
    if encoder in ("lstm", "gru"):
        return rnn(encoder.upper(), state, "encoder.rnn.", emb, config, e, hid)
    if encoder == "bilstm":
        forward = rnn("LSTM", state, "encoder.rnn_forward.", emb, config, e, hid // 2)
        backward = rnn("LSTM", state, "encoder.rnn_backward.", emb.flip(1), config, e, hid // 2).flip(1)
        return torch.cat([forward, backward], 2)
    if encoder == "cnn":
        return conv_stack(state, emb, config["kernel_size"])
    if encoder == "gatedcnn":
        return conv_stack(state, emb, config["kernel_size"], gated=True, block_size=config["block_size"])
    if encoder == "rcnn":
        return conv_stack(state, rnn("LSTM", state, "encoder.rnn.", emb, config, e, hid), config["kernel_size"])
    return rnn("LSTM", state, "encoder.rnn.", conv_stack(state, emb, config["kernel_size"]), config, hid, hid)


def reference_losses(state, hidden, tgt):
    """Loss sums of the targets: mlm (gelu, layer norm, softmax), nsp/sop/cls (tanh on [CLS]), lm, bilm (one
    output layer for both halves)."""
    out = {}
    if "target.mlm_linear_1.weight" in state:
        h = layer_norm(gelu(linear(hidden, state, "target.mlm_linear_1.")), state, "target.layer_norm.")
        logits = linear(h, state, "target.mlm_linear_2.")
        where = tgt["mlm"] > 0
        out["mlm"] = F.cross_entropy(logits[where], tgt["mlm"][where], reduction="sum")
    for task in ("nsp", "sop"):
        if f"target.{task}_linear_1.weight" in state:
            logits = linear(torch.tanh(linear(hidden[:, 0], state, f"target.{task}_linear_1.")), state,
                            f"target.{task}_linear_2.")
            out[task] = F.cross_entropy(logits, tgt["label"], reduction="sum")
    if "target.linear_1.weight" in state:
        logits = linear(torch.tanh(linear(hidden[:, 0], state, "target.linear_1.")), state, "target.linear_2.")
        out["cls"] = F.cross_entropy(logits, tgt["label"], reduction="sum")
    half = hidden.size(-1) // 2
    for name, h in (("lm", hidden), ("forward", hidden[..., :half]), ("backward", hidden[..., half:])):
        if name in tgt:
            logits = linear(h, state, "target.output_layer.")
            out[name] = F.cross_entropy(logits.flatten(0, 1), tgt[name].flatten(), reduction="sum")
    return out


def original_checkpoint(model, path, seed=0):
    """Perturbed weights (gamma/beta moved off 1/0) saved as UER-py saved them: a plain state_dict."""
    g = torch.Generator().manual_seed(seed)
    state = {k: v + 0.05 * torch.randn(v.shape, generator=g) for k, v in model.state_dict().items()}
    torch.save(state, path)
    return state


@pytest.mark.parametrize("name", sorted(CASES))
def test_original_checkpoint_and_config_compute_the_2020_outputs(name, tmp_path):
    config_name, extra, flags = CASES[name]
    config = dict(ORIGINAL_CONFIGS[config_name], **extra)
    config_path = tmp_path / f"{config_name}_config.json"
    config_path.write_text(json.dumps(config))
    args = parse(pretrain.build_parser(), ["--output_model_path", "unused", "--config_path", str(config_path)]
                 + flags)
    assert args.layer_norm_unbiased and args.layer_norm_eps == EPS, "a config without layer-norm keys is 2020's"
    args.labels_num = 2  # of the cls target (pretrain.py reads it from the dataset)
    torch.manual_seed(0)
    model = build_model(args, VOCAB)
    state = original_checkpoint(model, tmp_path / "model.bin")
    torch.manual_seed(1)
    model = build_model(args, VOCAB).eval()
    load_model(model, str(tmp_path / "model.bin"))
    # compared in float64, so that any difference left is one of arithmetic, not of rounding
    model, state = model.double(), {k: v.double() for k, v in state.items()}

    g = torch.Generator().manual_seed(2)
    src = torch.randint(5, VOCAB, (2, 10), generator=g)
    bert = args.embedding == "bert"
    seg = torch.ones_like(src)
    if bert and args.encoder != "gpt":
        seg[:, 5:] = 2
        seg[1, 8:] = 0  # padding: masked out of attention, outputs not compared
        src[seg == 0] = 0
    with torch.no_grad():
        ours = model.encoder(model.embedding(src, seg), seg)
        ref = reference_hidden(name, state, config, src, seg)
    valid = seg > 0
    assert ours.shape == ref.shape
    diff = (ours[valid] - ref[valid]).abs().max()
    assert diff < 1e-9 * max(1.0, ref[valid].abs().max()), f"max abs diff {diff:.3g}"

    tgt = {"label": torch.tensor([0, 1]), "seg": seg}
    if args.target == "lm":
        tgt["lm"] = torch.roll(src, -1, 1)
    elif args.target == "bilm":
        tgt.update(forward=torch.roll(src, -1, 1), backward=torch.roll(src, 1, 1))
    else:
        tgt["mlm"] = torch.zeros_like(src)
        tgt["mlm"][:, [2, 6]] = src[:, [2, 6]]
    with torch.no_grad():
        parts = model(src, tgt, seg)
        expected = reference_losses(state, ref, tgt)
    assert set(expected) == set(parts)
    for part, loss in expected.items():
        # the vocabulary softmax runs in float32 whatever the model's precision
        assert abs(parts[part]["loss_sum"].item() - loss.item()) < 1e-5 * max(1.0, loss.item()), part


def test_cnn_holds_layers_num_convolutions_after_the_first():
    """UER-py's plain cnn builds conv_1 and layers_num more; gatedcnn, rcnn and crnn build layers_num - 1."""
    for encoder, config, expected in (("cnn", "cnn", 6), ("gatedcnn", "gatedcnn_9", 8), ("rcnn", "rnn", 1),
                                      ("crnn", "rnn", 1)):
        args = pretrain_args(os.path.join(ROOT, "models", f"{config}_config.json"), "--embedding", "word",
                             "--encoder", encoder, "--target", "lm")
        keys = build_model(args, VOCAB).state_dict()
        assert "encoder.conv_1.weight" in keys
        assert {k for k in keys if k.startswith("encoder.conv.") and k.endswith(".weight")} == \
            {f"encoder.conv.{i}.weight" for i in range(expected)}, encoder


# -- config files: every key honoured or refused

def write_config(tmp_path, **config):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(ORIGINAL_CONFIGS["bert_tiny"], **config)))
    return str(path)


def pretrain_args(config_path, *flags):
    return parse(pretrain.build_parser(), ["--output_model_path", "x", "--config_path", config_path, *flags])


@pytest.mark.parametrize("act, reference", [
    ("gelu", gelu), ("relu", torch.relu), ("silu", lambda x: x * torch.sigmoid(x)),
    ("gelu_new", lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    ("gelu_fast", lambda x: 0.5 * x * (1 + torch.tanh(0.7978845608 * x * (1 + 0.044715 * x * x))))])
def test_hidden_act_is_the_feed_forward_activation(tmp_path, act, reference):
    model = build_model(pretrain_args(write_config(tmp_path, hidden_act=act)), VOCAB)
    ff = model.encoder.transformer[0].feed_forward
    x = torch.randn(4, 384)
    expected = linear(reference(linear(x, ff.state_dict(), "linear_1.")), ff.state_dict(), "linear_2.")
    assert torch.allclose(ff(x), expected, atol=1e-5)


def test_unsupported_config_values_are_refused(tmp_path):
    from uer.core.errors import UserInputError
    with pytest.raises(UserInputError, match=r"config.json: hidden_act \"swish\" is not supported; expected one of"):
        pretrain_args(write_config(tmp_path, hidden_act="swish"))
    with pytest.raises(UserInputError, match="layer_norm_eps without layer_norm_unbiased"):
        pretrain_args(write_config(tmp_path, layer_norm_eps=1e-12))
    with pytest.raises(UserInputError, match="layer_norm_unbiased must be true or false"):
        pretrain_args(write_config(tmp_path, layer_norm_unbiased="yes"))


def test_unknown_config_keys_are_named_in_a_warning(tmp_path, capsys):
    args = pretrain_args(write_config(tmp_path, attention_type="sparse"))
    err = capsys.readouterr().err
    assert "warning:" in err and "'attention_type'" in err and "ignored" in err
    assert not hasattr(args, "attention_type")


def test_layer_norm_rule(tmp_path):
    from uer.layers.layer_norm import LayerNorm
    default = build_model(pretrain_args(write_config(tmp_path)), VOCAB)
    assert all(m.unbiased_std and m.eps == 1e-6 for m in default.modules() if isinstance(m, LayerNorm))
    fused = build_model(pretrain_args(write_config(tmp_path, layer_norm_unbiased=False, layer_norm_eps=1e-12)), VOCAB)
    norms = [m for m in fused.modules() if isinstance(m, LayerNorm)]
    assert norms and all(not m.unbiased_std and m.eps == 1e-12 for m in norms)
    x = torch.randn(3, 384)
    assert torch.allclose(norms[0](x), F.layer_norm(x, (384,), norms[0].gamma, norms[0].beta, 1e-12))


def test_converters_write_the_standard_layer_norm_and_hidden_act():
    from uer.interop.convert_bert import config_to_uer as hf_config_to_uer
    config = hf_config_to_uer({"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
                               "num_hidden_layers": 2, "hidden_act": "gelu_new", "layer_norm_eps": 1e-12})
    assert config["layer_norm_unbiased"] is False and config["layer_norm_eps"] == 1e-12
    assert config["hidden_act"] == "gelu_new"


# -- the 2020 layer norm as one autograd function

def test_unbiased_layer_norm_values_and_gradients():
    from uer.layers.layer_norm import LayerNorm, UnbiasedStdNorm
    x = torch.randn(3, 5, 7, dtype=torch.double, requires_grad=True)
    gamma = torch.randn(7, dtype=torch.double, requires_grad=True)
    beta = torch.randn(7, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, g, b: UnbiasedStdNorm.apply(a, g, b, 1e-6), (x, gamma, beta))
    # float32 at BERT's width against the four-op formula, forward and backward
    norm = LayerNorm(768)
    with torch.no_grad():
        norm.gamma.add_(0.1 * torch.randn(768))
        norm.beta.add_(0.1 * torch.randn(768))
    x = (3 * torch.randn(6, 20, 768) + 1).requires_grad_()
    grad = torch.randn(6, 20, 768)
    state = {"g.gamma": norm.gamma, "g.beta": norm.beta}
    ref = layer_norm(x, state, "g.")
    ours = norm(x)
    assert (ours - ref).abs().max() < 1e-5
    ref_grads = torch.autograd.grad(ref, (x, norm.gamma, norm.beta), grad)
    our_grads = torch.autograd.grad(ours, (x, norm.gamma, norm.beta), grad)
    for a, b in zip(our_grads, ref_grads):
        assert (a - b).abs().max() < 1e-4 * max(1.0, b.abs().max())
    # a constant row gives beta and a finite gradient (the four-op formula's is nan there: std' = 0 / 0)
    flat = torch.ones(2, 768, requires_grad=True)
    out = norm(flat)
    out.backward(grad[0, :2])
    assert torch.allclose(out, norm.beta.expand(2, 768)) and torch.isfinite(flat.grad).all()


# -- flag defaults: a command that leaves a flag out trains as UER-py's did

ORIGINAL_DEFAULTS = {
    "run_classifier": {"batch_size": 64, "seq_length": 128, "learning_rate": 2e-5, "warmup": 0.1, "epochs_num": 3,
                       "report_steps": 100, "seed": 7, "pooling": "first", "soft_alpha": 0.5},
    "run_ner": {"batch_size": 32, "seq_length": 128, "learning_rate": 2e-5, "warmup": 0.1, "epochs_num": 3},
    "run_cmrc": {"batch_size": 64, "seq_length": 100, "learning_rate": 3e-5, "warmup": 0.1, "epochs_num": 3,
                 "doc_stride": 128},
    "run_c3": {"batch_size": 32, "seq_length": 512, "learning_rate": 2e-5, "epochs_num": 8, "max_choices_num": 4},
    "run_dbqa": {"batch_size": 32, "seq_length": 128, "learning_rate": 2e-5, "epochs_num": 3},
    "run_mt_classifier": {"batch_size": 32, "seq_length": 128, "learning_rate": 2e-5, "epochs_num": 3},
    "pretrain": {"batch_size": 32, "learning_rate": 2e-5, "warmup": 0.1, "total_steps": 100000,
                 "save_checkpoint_steps": 10000, "report_steps": 100, "accumulation_steps": 1,
                 "instances_buffer_size": 25600, "seed": 7, "beta1": 0.9, "beta2": 0.999},
}


@pytest.mark.parametrize("script", sorted(ORIGINAL_DEFAULTS))
def test_flag_defaults_are_the_originals(script):
    import importlib
    parser = importlib.import_module(script).build_parser()
    defaults = {a.dest: a.default for a in parser._actions}
    assert {k: defaults[k] for k in ORIGINAL_DEFAULTS[script]} == ORIGINAL_DEFAULTS[script]
    # UER-py's optimizer by default: Adam without bias correction
    assert defaults["bias_correction"] is False and defaults["weight_decay"] == 0.01
