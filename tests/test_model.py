"""Checkpoint format (key names and shapes of UER-py checkpoints), loading, saving, and the original's math."""
import math

import pytest
import torch

from conftest import model_args
from uer.model_builder import build_model
from uer.model_loader import load_model
from uer.model_saver import save_model
from uer.core.errors import UserInputError

BERT_BASE = dict(emb_size=768, hidden_size=768, feedforward_size=3072, heads_num=12, layers_num=2)
ALBERT_BASE = dict(BERT_BASE, emb_size=128, factorized_embedding_parameterization=True, parameter_sharing=True)
VOCAB = 21128

EMBEDDING = """embedding.word_embedding.weight [21128, E]
embedding.position_embedding.weight [512, E]
embedding.segment_embedding.weight [3, E]
embedding.layer_norm.gamma [E]
embedding.layer_norm.beta [E]"""
LAYER = """self_attn.linear_layers.0.weight [768, 768]
self_attn.linear_layers.0.bias [768]
self_attn.linear_layers.1.weight [768, 768]
self_attn.linear_layers.1.bias [768]
self_attn.linear_layers.2.weight [768, 768]
self_attn.linear_layers.2.bias [768]
self_attn.final_linear.weight [768, 768]
self_attn.final_linear.bias [768]
layer_norm_1.gamma [768]
layer_norm_1.beta [768]
feed_forward.linear_1.weight [3072, 768]
feed_forward.linear_1.bias [3072]
feed_forward.linear_2.weight [768, 3072]
feed_forward.linear_2.bias [768]
layer_norm_2.gamma [768]
layer_norm_2.beta [768]"""
MLM = """target.mlm_linear_1.weight [E, 768]
target.mlm_linear_1.bias [E]
target.layer_norm.gamma [E]
target.layer_norm.beta [E]
target.mlm_linear_2.weight [21128, E]
target.mlm_linear_2.bias [21128]"""
SENTENCE = """target.{t}_linear_1.weight [768, 768]
target.{t}_linear_1.bias [768]
target.{t}_linear_2.weight [2, 768]
target.{t}_linear_2.bias [2]"""


def spec(*blocks, emb=768, shared=False):
    lines = []
    for block in blocks:
        if block == "layers":
            prefixes = ["encoder.transformer."] if shared else [f"encoder.transformer.{i}." for i in range(2)]
            block = "\n".join(p + line for p in prefixes for line in LAYER.splitlines())
        lines += block.replace("E]", f"{emb}]").replace("[E,", f"[{emb},").replace(", E]", f", {emb}]").splitlines()
    out = {}
    for line in lines:
        key, shape = line.split(" ", 1)
        out[key] = [int(x) for x in shape.strip("[]").split(", ")]
    return out


CASES = {
    "bert": (dict(BERT_BASE), "bert", "bert", spec(EMBEDDING, "layers", MLM, SENTENCE.format(t="nsp"))),
    "mlm": (dict(BERT_BASE), "bert", "mlm", spec(EMBEDDING, "layers", MLM)),
    "albert": (dict(ALBERT_BASE), "bert", "albert",
               spec(EMBEDDING, "encoder.linear.weight [768, 128]\nencoder.linear.bias [768]", "layers", MLM,
                    SENTENCE.format(t="sop"), emb=128, shared=True)),
    "gpt": (dict(BERT_BASE), "gpt", "lm",
            spec(EMBEDDING, "layers", "target.output_layer.weight [21128, 768]\ntarget.output_layer.bias [21128]")),
    "cls": (dict(BERT_BASE), "bert", "cls",
            spec(EMBEDDING, "layers", "target.linear_1.weight [768, 768]\ntarget.linear_1.bias [768]\n"
                 "target.linear_2.weight [2, 768]\ntarget.linear_2.bias [2]")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_keys_and_shapes_match_uer_checkpoints(name):
    config, encoder, target, expected = CASES[name]
    model = build_model(model_args(config, encoder, target), VOCAB)
    got = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert got == expected


def tiny_args(**extra):
    return model_args(dict(emb_size=32, hidden_size=32, feedforward_size=64, heads_num=4, layers_num=2, dropout=0.0),
                     **extra)


def batch(vocab=100, n=3, length=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(5, vocab, (n, length), generator=g)
    seg = torch.ones(n, length, dtype=torch.long)
    seg[:, length // 2:] = 2
    seg[1, 9:] = 0
    src[seg == 0] = 0
    tgt = torch.zeros_like(src)
    tgt[:, 3] = src[:, 3]
    return src, {"mlm": tgt, "label": torch.tensor([0, 1, 0])}, seg


def test_save_then_load_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model = build_model(tiny_args(), 100).eval()
    path = str(tmp_path / "m.bin")
    save_model(model, path)
    torch.manual_seed(1)
    other = build_model(tiny_args(), 100).eval()
    src, tgt, seg = batch()
    assert not torch.equal(model.embedding(src, seg), other.embedding(src, seg))
    load_model(other, path)
    a, b = model(src, tgt, seg), other(src, tgt, seg)
    for part in a:
        assert torch.equal(a[part]["loss_sum"], b[part]["loss_sum"])
    assert torch.equal(model.encoder(model.embedding(src, seg), seg), other.encoder(other.embedding(src, seg), seg))
    assert not [p for p in tmp_path.iterdir() if p.name != "m.bin"], "no temporary file may remain"


def test_loading_checkpoint_of_another_config_lists_differing_keys(tmp_path):
    path = str(tmp_path / "m.bin")
    save_model(build_model(tiny_args(), 100), path)
    with pytest.raises(UserInputError) as err:
        load_model(build_model(tiny_args(hidden_size=48, emb_size=48, feedforward_size=64), 100), path)
    assert "embedding.word_embedding.weight (file (100, 32), model (100, 48))" in str(err.value)
    with pytest.raises(UserInputError, match="no embedding or encoder weight matches"):
        torch.save({"foo.weight": torch.zeros(2)}, path)
        load_model(build_model(tiny_args(), 100), path)


def test_missing_and_unexpected_keys_are_reported(tmp_path, capsys):
    path = str(tmp_path / "m.bin")
    save_model(build_model(tiny_args(layers_num=3), 100), path)
    report = load_model(build_model(tiny_args(target="mlm"), 100), path)
    assert "encoder.transformer.2.layer_norm_2.beta" in report["unexpected"]
    assert "target.nsp_linear_1.weight" in report["unexpected"]
    assert "encoder.transformer.2.layer_norm_2.beta" in capsys.readouterr().err


def test_checkpoint_loads_without_code_execution(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    path = str(tmp_path / "evil.bin")
    torch.save({"embedding.word_embedding.weight": torch.zeros(1), "x": Evil()}, path)
    with pytest.raises(UserInputError, match="not a loadable UER model file"):
        load_model(build_model(tiny_args(), 100), path)


def test_tie_weights_shares_the_tensor_and_saves_both_keys(tmp_path):
    model = build_model(tiny_args(tie_weights=True, target="mlm"), 100)
    assert model.target.mlm_linear_2.weight is model.embedding.word_embedding.weight
    path = str(tmp_path / "m.bin")
    save_model(model, path)
    state = torch.load(path, weights_only=True)
    assert torch.equal(state["target.mlm_linear_2.weight"], state["embedding.word_embedding.weight"])


# -- the 2020 UER-py forward pass, written out independently, to check we compute what published models expect


def uer2020_layer_norm(x, gamma, beta, eps=1e-6):
    return gamma * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + eps) + beta


def uer2020_encoder(state, prefix, src, seg, layers, heads, causal=False):
    p = lambda name: state[prefix + name]  # noqa: E731
    emb = p("embedding.word_embedding.weight")[src] + p("embedding.position_embedding.weight")[:src.size(1)] \
        + p("embedding.segment_embedding.weight")[seg]
    h = uer2020_layer_norm(emb, p("embedding.layer_norm.gamma"), p("embedding.layer_norm.beta"))
    b, n, d = h.shape
    if causal:
        mask = (1.0 - torch.tril(torch.ones(n, n))) * -10000.0
        mask = mask.expand(b, 1, n, n)
    else:
        mask = (1.0 - (seg > 0).float()[:, None, None, :].expand(b, 1, n, n)) * -10000.0
    for i in range(layers):
        q = lambda name: p(f"encoder.transformer.{i}.{name}")  # noqa: E731
        lin = lambda x, name: x @ q(name + ".weight").t() + q(name + ".bias")  # noqa: E731
        split = lambda x: x.view(b, n, heads, d // heads).transpose(1, 2)  # noqa: E731
        qq, kk, vv = (split(lin(h, f"self_attn.linear_layers.{j}")) for j in range(3))
        scores = qq @ kk.transpose(-2, -1) / math.sqrt(d // heads) + mask
        ctx = (torch.softmax(scores, -1) @ vv).transpose(1, 2).reshape(b, n, d)
        inter = uer2020_layer_norm(lin(ctx, "self_attn.final_linear") + h, q("layer_norm_1.gamma"),
                                   q("layer_norm_1.beta"))
        ff = lin(inter, "feed_forward.linear_1")
        ff = ff * 0.5 * (1.0 + torch.erf(ff / math.sqrt(2.0)))
        h = uer2020_layer_norm(lin(ff, "feed_forward.linear_2") + inter, q("layer_norm_2.gamma"),
                               q("layer_norm_2.beta"))
    return h


@pytest.mark.parametrize("encoder", ["bert", "gpt"])
def test_outputs_equal_the_2020_uer_computation(encoder):
    torch.manual_seed(0)
    model = build_model(tiny_args(encoder=encoder, layer_norm_unbiased=True), 100).eval()
    for p in model.parameters():  # move gamma/beta away from 1/0 so that layer norm is really exercised
        p.data += 0.05 * torch.randn_like(p)
    src, _, seg = batch()
    if encoder == "gpt":
        seg = (src > 0).long()
    ours = model.encoder(model.embedding(src, seg), seg)
    ref = uer2020_encoder(model.state_dict(), "", src, seg, 2, 4, causal=encoder == "gpt")
    valid = seg > 0
    assert torch.allclose(ours[valid], ref[valid], atol=1e-5)
    fused = build_model(tiny_args(encoder=encoder), 100).eval()
    fused.load_state_dict(model.state_dict())
    close = fused.encoder(fused.embedding(src, seg), seg)
    # hidden 32: sqrt(32/31) = 1.6% std difference between biased and unbiased normalisation (0.07% at 768)
    assert (close[valid] - ref[valid]).abs().mean() < 0.02, "fused layer norm differs only by the std detail"


def test_flags_that_the_encoder_ignores_are_rejected():
    with pytest.raises(UserInputError, match="--bidirectional does not apply to --encoder bert"):
        build_model(tiny_args(bidirectional=True), 100)
    with pytest.raises(UserInputError, match="--tie_weights needs"):
        build_model(tiny_args(tie_weights=True, emb_size=16, factorized_embedding_parameterization=True,
                              target="lm", encoder="gpt"), 100)


def test_the_typed_model_config_holds_every_default_once():
    """ModelConfig (uer/core/model_config.py) is where each model key has its default: the config-file defaults
    of uer/opts.py are its, an args namespace becomes one with what it lacks filled and what else it holds kept,
    and a model built from a partial namespace equals one built from the whole."""
    from argparse import Namespace
    from uer.core.model_config import ModelConfig, model_config
    from uer.opts import MODEL_DEFAULTS
    assert all(getattr(ModelConfig(), key) == value for key, value in MODEL_DEFAULTS.items())
    config = model_config(Namespace(hidden_size=8, labels_num=3))
    assert config.hidden_size == 8 and config.labels_num == 3 and config.rope_theta == 10000.0
    assert model_config(config) is config and model_config(None) == ModelConfig()
    asked = Namespace(target="mlm")
    assert model_config(asked, target="lm").target == "lm" and asked.target == "mlm"  # a copy, args untouched
    assert model_config(config, labels_num=5).labels_num == 5 and config.labels_num == 3
    sizes = {"emb_size": 16, "hidden_size": 16, "feedforward_size": 32, "heads_num": 2, "layers_num": 1}
    from uer.model_builder import build_model
    torch.manual_seed(0)
    partial = build_model(Namespace(**sizes, embedding="bert", encoder="bert", target="mlm"), 30)
    torch.manual_seed(0)
    whole = build_model(model_args(sizes, "bert", "mlm"), 30)
    assert partial.state_dict().keys() == whole.state_dict().keys()
    assert all(torch.equal(partial.state_dict()[k], whole.state_dict()[k]) for k in whole.state_dict())
