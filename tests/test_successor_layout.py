"""Files written by today's UER-py and TencentPretrain: tiny models of every family, in the configs' form those
toolkits ship, are written here in their key names by a helper of this file (from the names and formulas their
code uses), then loaded through the ordinary path and compared; where a TencentPretrain-form config means
something else than a 2020-form one (ALBERT's MLM activation, T5/BART's own output table, its sinusoidal
positions, Bi-LSTM's bias), the outputs are checked against formulas written here."""
import json
import math

import pytest
import torch

from conftest import ROOT, load_script, model_args
from uer.core.errors import UserInputError

VOCAB_SIZE = 40
SMALL = {"emb_size": 32, "hidden_size": 32, "feedforward_size": 64, "heads_num": 4, "layers_num": 2,
         "max_seq_length": 64, "dropout": 0.0}
SEQ2SEQ = dict(SMALL, decoder_layers_num=2, decoder="transformer", mask="fully_visible", encoder="transformer",
               target=["lm"])
FAMILIES = {
    "bert": dict(SMALL, data_processor="bert", embedding=["word", "pos", "seg"], encoder="transformer",
                 mask="fully_visible", target=["mlm", "sp"], tie_weights=True),
    "bert_untied": dict(SMALL, data_processor="bert", embedding=["word", "pos", "seg"], encoder="transformer",
                        mask="fully_visible", target=["mlm", "sp"]),
    "xlm-roberta": dict(SMALL, data_processor="mlm", embedding=["word", "pos", "seg"], encoder="transformer",
                        mask="fully_visible", target=["mlm"]),
    "albert": dict(SMALL, emb_size=16, hidden_act="relu", data_processor="albert", embedding=["word", "pos", "seg"],
                   encoder="transformer", mask="fully_visible", factorized_embedding_parameterization=True,
                   parameter_sharing=True, target=["mlm", "sp"]),
    "gpt2": dict(SMALL, hidden_act="gelu_fast", data_processor="lm", embedding=["word", "pos"],
                 remove_embedding_layernorm=True, encoder="transformer", mask="causal", layernorm_positioning="pre",
                 target=["lm"], tie_weights=True),
    "llama": dict(SMALL, hidden_act="silu", local_kv_heads_num=2, data_processor="lm", embedding=["word"],
                  remove_transformer_bias=True, remove_embedding_layernorm=True, rotary_position_embedding=True,
                  encoder="transformer", feed_forward="gated", mask="causal", layernorm_positioning="pre",
                  layernorm="rms", target=["lm"]),
    "bloom": dict(SMALL, data_processor="lm", embedding=["word"], remove_transformer_bias=False,
                  has_lmtarget_bias=False, remove_embedding_layernorm=True, encoder="transformer", mask="causal",
                  layernorm_positioning="pre", target=["lm"], tie_weights=True, alibi_position_embedding=True,
                  layer_number_scale=True),
    "t5": dict(SEQ2SEQ, hidden_act="relu", data_processor="t5", embedding=["word"], relative_position_embedding=True,
               remove_embedding_layernorm=True, tgt_embedding=["word"], share_embedding=True,
               layernorm_positioning="pre", remove_attention_scale=True, layernorm="t5", remove_transformer_bias=True,
               tie_weights=True),
    "t5-v1_1": dict(SEQ2SEQ, hidden_act="gelu_fast", attention_head_size=16, data_processor="t5", embedding=["word"],
                    relative_position_embedding=True, remove_embedding_layernorm=True, tgt_embedding=["word"],
                    share_embedding=True, layernorm_positioning="pre", feed_forward="gated",
                    remove_attention_scale=True, layernorm="t5", remove_transformer_bias=True),
    "bart": dict(SEQ2SEQ, data_processor="bart", embedding=["word", "pos"], tgt_embedding=["word", "pos"],
                 share_embedding=True, tie_weights=True, has_lmtarget_bias=True),
    "pegasus": dict(SEQ2SEQ, hidden_act="relu", data_processor="gsg", embedding=["word", "sinusoidalpos"],
                    remove_embedding_layernorm=True, tgt_embedding=["word", "sinusoidalpos"], share_embedding=True,
                    layernorm_positioning="pre", has_lmtarget_bias=True, tie_weights=True),
    "transformer": dict(SEQ2SEQ, hidden_act="relu", data_processor="mt", embedding=["word", "sinusoidalpos"],
                        tgt_embedding=["word", "sinusoidalpos"], tie_weights=True),
    "lstm": dict(SMALL, data_processor="lm", embedding=["word"], remove_embedding_layernorm=True, encoder="lstm",
                 target=["lm"]),
    "gru": dict(SMALL, data_processor="lm", embedding=["word"], remove_embedding_layernorm=True, encoder="gru",
                target=["lm"]),
    "gatedcnn": dict(SMALL, emb_size=16, hidden_size=24, layers_num=3, kernel_size=4, block_size=2,
                     data_processor="lm", embedding=["word"], remove_embedding_layernorm=True, encoder="gatedcnn",
                     target=["lm"]),
    "bilstm": dict(SMALL, emb_size=16, data_processor="bilm", embedding=["word"], remove_embedding_layernorm=True,
                   encoder="bilstm", target=["bilm"]),
}


def config_file(tmp_path, name, config=None):
    path = tmp_path / f"{name}_config.json"
    path.write_text(json.dumps(config or FAMILIES[name]))
    return str(path)


def build(path, seed=0):
    from uer.model_builder import build_model
    from uer.opts import load_config
    config = load_config(path)
    args = model_args(config, encoder=config["encoder"], target=config["target"], config_path=path)
    torch.manual_seed(seed)
    model = build_model(args, VOCAB_SIZE)
    with torch.no_grad():  # layer norms and biases away from their initial values, so that a mix-up shows
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()


def inputs(seed=1):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(3, VOCAB_SIZE, (2, 9), generator=g)
    seg = torch.ones_like(src)
    src[1, 6:], seg[1, 6:] = 0, 0
    return src, seg


def outputs(model, src, seg):
    """Every output of the model: the encoder's (and decoder's) states and each head's logits."""
    with torch.no_grad():
        if hasattr(model, "decoder"):
            hidden = model.decode(model.encode(src, seg), seg, src[:, :7], seg[:, :7])
            return [hidden, model.target.word_logits(hidden)]
        hidden = model.encode(src, seg)
        target, out = model.target, [hidden]
        if hasattr(target, "word_logits"):
            out.append(target.word_logits(hidden))
        if hasattr(target, "sentence_logits"):
            out.append(target.sentence_logits(hidden))
        if type(target).__name__ == "BilmTarget":
            out += [target.output_layer(hidden[..., :target.half]), target.output_layer(hidden[..., target.half:])]
        return out


# The names their code gives each part (embeddings/, targets/ of TencentPretrain and UER-py since 2023).
THEIR_NAMES = [("embedding.word_embedding.", "embedding.word.embedding."),
               ("embedding.position_embedding.", "embedding.pos.embedding."),
               ("embedding.segment_embedding.", "embedding.seg.embedding."),
               ("tgt_embedding.word_embedding.", "tgt_embedding.word.embedding."),
               ("tgt_embedding.position_embedding.", "tgt_embedding.pos.embedding."),
               ("target.mlm_linear_1.", "target.mlm.linear_1."), ("target.layer_norm.", "target.mlm.layer_norm."),
               ("target.mlm_linear_2.", "target.mlm.linear_2."), ("target.nsp_linear_1.", "target.sp.linear_1."),
               ("target.nsp_linear_2.", "target.sp.linear_2."), ("target.sop_linear_1.", "target.sp.linear_1."),
               ("target.sop_linear_2.", "target.sp.linear_2.")]


def adjacent_pairs(w, heads):
    """Rows of a rotary projection in the adjacent-pair order: row 2i of a head is row i of the halves order,
    row 2i + 1 is row i + head_size / 2."""
    size = w.shape[0] // heads
    out = torch.empty_like(w)
    for h in range(heads):
        for i in range(size // 2):
            out[h * size + 2 * i] = w[h * size + i]
            out[h * size + 2 * i + 1] = w[h * size + i + size // 2]
    return out


def their_file(model, config, uer_py=False):
    """The model's state as TencentPretrain writes it (uer_py: as today's UER-py, whose T5 encoder keeps only
    the stack's relative position table)."""
    bilm = config["target"] == ["bilm"]
    out = {}
    for key, value in model.state_dict().items():
        for ours, theirs in THEIR_NAMES:
            if key.startswith(ours):
                key = theirs + key[len(ours):]
        if key.startswith("target.output_layer."):
            key = key.replace("target.", "target.bilm." if bilm else "target.lm.", 1)
        if config.get("rotary_position_embedding") and ".self_attn.linear_layers." in key and key[-8] in "01":
            heads = config["heads_num"] if key[-8] == "0" else config.get("local_kv_heads_num", config["heads_num"])
            value = adjacent_pairs(value, heads)
        if key.startswith("encoder.relative_pos_emb.") and not uer_py:
            for i in range(config["layers_num"]):  # one module shared by the layers, saved under each
                out[f"encoder.transformer.{i}.relative_pos_emb.{key[len('encoder.relative_pos_emb.'):]}"] = value
            value = torch.randn_like(value)  # the stack's own, which its forward never reads
        out[key] = value.clone()
    return out


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_their_file_with_their_config_loads_and_computes_the_same(tmp_path, family, capsys):
    from uer.model_loader import load_model
    path = config_file(tmp_path, family)
    model = build(path)
    src, seg = inputs()
    expected = outputs(model, src, seg)
    torch.save(their_file(model, FAMILIES[family]), tmp_path / "theirs.bin")
    fresh = build(path, seed=5)
    report = load_model(fresh, str(tmp_path / "theirs.bin"))
    assert report["missing"] == [] and report["unexpected"] == []
    assert "TencentPretrain / UER-py 2023+ layout" in capsys.readouterr().err
    for got, want in zip(outputs(fresh, src, seg), expected):
        assert (got - want).abs().max() <= 1e-6


@pytest.mark.parametrize("family", ["t5", "bert", "gpt2"])
def test_uer_py_files_load_too(tmp_path, family):
    """Today's UER-py: the same names, and T5's relative position table only on the encoder stack."""
    from uer.model_loader import load_model
    path = config_file(tmp_path, family)
    model = build(path)
    src, seg = inputs()
    torch.save(their_file(model, FAMILIES[family], uer_py=True), tmp_path / "uer_py.bin")
    fresh = build(path, seed=5)
    load_model(fresh, str(tmp_path / "uer_py.bin"))
    for got, want in zip(outputs(fresh, src, seg), outputs(model, src, seg)):
        assert (got - want).abs().max() <= 1e-6


@pytest.mark.parametrize("family", ["bert", "albert", "llama", "t5", "bilstm", "pegasus"])
def test_convert_model_layout_writes_their_names_and_back(tmp_path, family):
    convert = load_script("scripts/convert_model_layout.py").main
    path = config_file(tmp_path, family)
    model = build(path)
    torch.save(model.state_dict(), tmp_path / "ours.bin")
    convert(["--input_model_path", str(tmp_path / "ours.bin"), "--output_model_path", str(tmp_path / "theirs.bin"),
             "--config_path", path, "--layout", "tencentpretrain"])
    written = torch.load(tmp_path / "theirs.bin")
    expected = their_file(model, FAMILIES[family])
    assert sorted(written) == sorted(expected)
    for key, value in written.items():
        if key != "encoder.relative_pos_emb.relative_attention_bias.weight":  # unused there: any table
            assert torch.equal(value, expected[key]), key
    convert(["--input_model_path", str(tmp_path / "theirs.bin"), "--output_model_path", str(tmp_path / "back.bin"),
             "--config_path", path, "--layout", "uer"])
    back, own = torch.load(tmp_path / "back.bin"), model.state_dict()
    assert sorted(back) == sorted(own) and all(torch.equal(back[k], own[k]) for k in own)


def test_albert_in_their_form_applies_its_activation_in_the_mlm_head(tmp_path):
    """There the MLM head applies hidden_act (relu for ALBERT); a 2020-form ALBERT config keeps gelu."""
    model = build(config_file(tmp_path, "albert"))
    t = model.target
    h = torch.randn(5, 32)
    x = torch.relu(h @ t.mlm_linear_1.weight.T + t.mlm_linear_1.bias)
    x = t.layer_norm.gamma * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + 1e-6) + t.layer_norm.beta
    with torch.no_grad():
        assert (t.word_logits(h) - (x @ t.mlm_linear_2.weight.T + t.mlm_linear_2.bias)).abs().max() <= 1e-5
    config = dict(FAMILIES["albert"], embedding="bert", encoder="bert", target="albert")  # UER-py 2020's form
    del config["mask"], config["data_processor"]
    assert build(config_file(tmp_path, "albert_2020", config)).target.act is torch.nn.functional.gelu


@pytest.mark.parametrize("family", ["t5", "bart", "pegasus"])
def test_shared_and_tied_seq2seq_keeps_its_own_output_table(tmp_path, family):
    """share_embedding + tie_weights there: the output layer is tied to the target embedding before that one is
    replaced by the source's, so the file holds two different tables, and the logits come from the second."""
    model = build(config_file(tmp_path, family))
    assert model.tgt_embedding.word_embedding.weight is model.embedding.word_embedding.weight
    assert model.target.output_layer.weight is not model.embedding.word_embedding.weight
    src, seg = inputs()
    hidden, logits = outputs(model, src, seg)
    out = model.target.output_layer
    expected = hidden @ out.weight.T + (out.bias if out.bias is not None else 0)
    assert (logits - expected).abs().max() <= 1e-5


def their_sinusoids(length, dim):
    """Sines at even, cosines at odd dimensions of exp(-j ln(10000) / (dim / 2 - 1)), element by element."""
    half = dim // 2
    table = torch.zeros(length, dim)
    for p in range(length):
        for j in range(half):
            angle = p * math.exp(-j * math.log(10000) / (half - 1))
            table[p, 2 * j], table[p, 2 * j + 1] = math.sin(angle), math.cos(angle)
    return table


@pytest.mark.parametrize("family", ["pegasus", "transformer"])
def test_their_sinusoidal_embedding_is_their_formula(tmp_path, family):
    """Word embedding times sqrt(emb_size), then the i-th real token's position row i + 2; padding zeros."""
    model = build(config_file(tmp_path, family))
    emb = model.embedding
    src, seg = inputs()
    table = their_sinusoids(64, 32)
    with torch.no_grad():
        got = emb(src, seg)
        words = emb.word_embedding(src) * math.sqrt(32)
        positions = torch.stack([torch.cat([table[2:2 + n], torch.zeros(9 - n, 32)]) for n in seg.sum(-1).tolist()])
        expected = words + positions
        if emb.layer_norm is not None:
            expected = emb.layer_norm(expected)
        assert (got - expected).abs().max() <= 1e-5
        # decoding one token at a time gives the rows of the whole sequence
        assert (emb(src[:1, 3:5], seg[:1, 3:5], start=3) - got[:1, 3:5]).abs().max() <= 1e-6


def test_hf_pegasus_spelling_keeps_transformers_layout():
    from uer.opts import load_config
    from uer.layers import str2embedding
    assert str2embedding["word_sinusoidalpos"].__name__ == "WordSinusoidalposEmbedding"
    assert load_config(f"{ROOT}/models/pegasus_base_config.json")["embedding"] == "word_sinusoidalpos_tencentpretrain"


def test_bilstm_output_layer_bias_follows_has_lmtarget_bias(tmp_path):
    assert build(config_file(tmp_path, "bilstm")).target.output_layer.bias is None
    config = dict(FAMILIES["bilstm"], embedding="word", target="bilm")  # UER-py 2020's form: with a bias
    assert build(config_file(tmp_path, "bilstm_2020", config)).target.output_layer.bias is not None


def test_t5_reads_the_per_layer_table_when_there(tmp_path):
    from uer.model_layout import to_uer
    table, unused = torch.randn(32, 4), torch.randn(32, 4)
    state = {"embedding.word.embedding.weight": torch.zeros(3, 2), "encoder.relative_pos_emb.relative_attention_bias"
             ".weight": unused, **{f"encoder.transformer.{i}.relative_pos_emb.relative_attention_bias.weight": table
                                   for i in range(3)}}
    out, done = to_uer(state)
    assert torch.equal(out["encoder.relative_pos_emb.relative_attention_bias.weight"], table)
    assert not any(".transformer." in k for k in out) and len(out) == 2
    del state["encoder.transformer.0.relative_pos_emb.relative_attention_bias.weight"], \
        state["encoder.transformer.1.relative_pos_emb.relative_attention_bias.weight"], \
        state["encoder.transformer.2.relative_pos_emb.relative_attention_bias.weight"]
    assert torch.equal(to_uer(state)[0]["encoder.relative_pos_emb.relative_attention_bias.weight"], unused)


@pytest.mark.parametrize("missing", ["embedding.word.embedding.weight",
                                     "encoder.transformer.1.feed_forward.linear_1.weight"])
def test_a_file_leaving_the_body_unloaded_is_refused(tmp_path, missing):
    from uer.model_loader import load_model
    path = config_file(tmp_path, "bert")
    state = their_file(build(path), FAMILIES["bert"])
    del state[missing]
    torch.save(state, tmp_path / "half.bin")
    ours = missing.replace("word.embedding", "word_embedding")
    with pytest.raises(UserInputError, match=r"half\.bin leaves 1 weight\(s\) of the model's embedding/encoder/"
                                             r"decoder unloaded: " + ours):
        load_model(build(path), str(tmp_path / "half.bin"))


def test_missing_heads_are_reported_not_refused(tmp_path, capsys):
    from uer.model_loader import load_model
    path = config_file(tmp_path, "bert")
    state = {k: v for k, v in their_file(build(path), FAMILIES["bert"]).items() if not k.startswith("target.sp.")}
    torch.save(state, tmp_path / "no_sp.bin")
    report = load_model(build(path), str(tmp_path / "no_sp.bin"))
    assert sorted(report["missing"]) == ["target.nsp_linear_1.bias", "target.nsp_linear_1.weight",
                                         "target.nsp_linear_2.bias", "target.nsp_linear_2.weight"]
    assert "4 key(s) missing" in capsys.readouterr().err


def test_every_shipped_config_loads_with_no_unknown_key():
    import glob
    import argparse
    from uer.opts import load_config, known_config_keys, model_opts
    parser = argparse.ArgumentParser()
    model_opts(parser)
    known = known_config_keys(parser)
    for path in glob.glob(f"{ROOT}/models/*_config.json") + glob.glob(f"{ROOT}/../shared/spec/*/*_config.json"):
        config = load_config(path)
        assert set(config) <= known, (path, set(config) - known)


def test_scripts_read_their_files(tmp_path, capsys):
    """The scripts that read a model file themselves: check_model, extract_embedding, dynamic_vocab_adapter (which
    keeps the file's layout) and the BERT converter to HuggingFace (which reads either)."""
    path = config_file(tmp_path, "bert")
    model = build(path)
    theirs = their_file(model, FAMILIES["bert"])
    torch.save(theirs, tmp_path / "theirs.bin")
    torch.save(model.state_dict(), tmp_path / "ours.bin")
    load_script("scripts/check_model.py").main(["--load_model_path", str(tmp_path / "theirs.bin"),
                                                "--config_path", path])
    out = capsys.readouterr().out
    assert "tencentpretrain layout" in out and "exactly" in out
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"{w}\n" for w in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] +
                             [f"w{i}" for i in range(5, VOCAB_SIZE)]))
    load_script("scripts/extract_embedding.py").main([
        "--pretrained_model_path", str(tmp_path / "theirs.bin"), "--vocab_path", str(vocab),
        "--output_word_embedding_path", str(tmp_path / "emb.txt")])
    assert (tmp_path / "emb.txt").read_text().splitlines()[0] == f"{VOCAB_SIZE} 32"
    bigger = tmp_path / "bigger.txt"
    bigger.write_text(vocab.read_text() + "new\n")
    load_script("scripts/dynamic_vocab_adapter.py").main([
        "--old_model_path", str(tmp_path / "theirs.bin"), "--old_vocab_path", str(vocab), "--new_vocab_path",
        str(bigger), "--new_model_path", str(tmp_path / "adapted.bin")])
    adapted = torch.load(tmp_path / "adapted.bin")
    assert set(adapted) == set(theirs)
    for key in ("embedding.word.embedding.weight", "target.mlm.linear_2.weight", "target.mlm.linear_2.bias"):
        assert adapted[key].shape[0] == VOCAB_SIZE + 1 and torch.equal(adapted[key][:VOCAB_SIZE], theirs[key])
    to_hf = load_script("scripts/convert_bert_from_uer_to_huggingface.py").main
    for name in ("theirs", "ours"):
        to_hf(["--input_model_path", str(tmp_path / f"{name}.bin"), "--output_model_path",
               str(tmp_path / f"{name}.safetensors")])
    from safetensors.torch import load_file
    a, b = load_file(str(tmp_path / "theirs.safetensors")), load_file(str(tmp_path / "ours.safetensors"))
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


def test_a_rotary_file_of_theirs_needs_its_config_where_the_model_is_unknown(tmp_path):
    from uer.model_loader import read_in_uer_layout
    path = config_file(tmp_path, "llama")
    model = build(path)
    torch.save(their_file(model, FAMILIES["llama"]), tmp_path / "theirs.bin")
    with pytest.raises(UserInputError, match="theirs.bin is in TencentPretrain's layout.*give --config_path"):
        read_in_uer_layout(str(tmp_path / "theirs.bin"))
    from uer.opts import load_config
    state = read_in_uer_layout(str(tmp_path / "theirs.bin"), load_config(path))
    own = model.state_dict()
    assert sorted(state) == sorted(own) and all(torch.equal(state[k], own[k]) for k in own)
