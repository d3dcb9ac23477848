"""Pre-LN transformers ("layernorm_positioning": "pre", GPT-2 style) against a reference written from the
formula, their keys, and pre-training with them."""
import torch
import torch.nn.functional as F

from conftest import model_args
from uer.model_builder import build_model
from uer.core.errors import UserInputError

import pytest

CONFIG = {"emb_size": 32, "hidden_size": 32, "feedforward_size": 64, "heads_num": 4, "layers_num": 2,
          "dropout": 0.0, "hidden_act": "gelu_new", "layer_norm_unbiased": False, "layer_norm_eps": 1e-5}


def reference_pre_ln(state, prefix, x, layers_num, heads, causal):
    """x + attn(ln_1(x)), then x + ffn(ln_2(x)) per layer, then the final layer norm; from the state dict."""
    def ln(h, name):
        return F.layer_norm(h, h.shape[-1:], state[name + ".gamma"], state[name + ".beta"], 1e-5)

    def linear(h, name):
        return h @ state[name + ".weight"].T + state[name + ".bias"]
    b, n, d = x.shape
    for i in range(layers_num):
        p = f"{prefix}.transformer.{i}."
        h = ln(x, p + "layer_norm_1")
        q, k, v = (linear(h, p + f"self_attn.linear_layers.{j}").view(b, n, heads, -1).transpose(1, 2)
                   for j in range(3))
        scores = q @ k.transpose(-1, -2) / (d // heads) ** 0.5
        if causal:
            scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
        attn = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        x = x + linear(attn, p + "self_attn.final_linear")
        h = ln(x, p + "layer_norm_2")
        x = x + linear(F.gelu(linear(h, p + "feed_forward.linear_1"), approximate="tanh"),
                       p + "feed_forward.linear_2")
    return ln(x, f"{prefix}.layer_norm")


@pytest.mark.parametrize("encoder", ["bert", "gpt"])
def test_pre_ln_encoder_equals_the_formula(encoder):
    torch.manual_seed(0)
    args = model_args(dict(CONFIG, layernorm_positioning="pre"), encoder, "lm" if encoder == "gpt" else "mlm")
    model = build_model(args, 50).eval()
    for p in model.parameters():
        p.data.normal_(0, 0.3)
    state = model.state_dict()
    assert {k for k in state if k.startswith("encoder.layer_norm")} == {"encoder.layer_norm.gamma",
                                                                         "encoder.layer_norm.beta"}
    src = torch.randint(1, 50, (3, 9))
    seg = torch.ones_like(src)
    with torch.no_grad():
        emb = model.embedding(src, seg)
        ours = model.encoder(emb, seg)
        ref = reference_pre_ln(state, "encoder", emb, 2, 4, causal=encoder == "gpt")
    assert torch.allclose(ours, ref, atol=1e-5), (ours - ref).abs().max()


def test_post_ln_is_the_default_and_has_no_final_layer_norm():
    model = build_model(model_args(CONFIG, "bert", "mlm"), 50)
    assert not any(k.startswith("encoder.layer_norm") for k in model.state_dict())


def test_unknown_positioning_is_refused(tmp_path):
    from uer.opts import load_config
    path = tmp_path / "c.json"
    path.write_text('{"layernorm_positioning": "middle"}')
    with pytest.raises(UserInputError, match="layernorm_positioning"):
        load_config(str(path))
