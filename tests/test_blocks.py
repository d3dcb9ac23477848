"""The transformer's building blocks chosen by config keys, each against a formula written here, and the
successor's configs: TencentPretrain's LLaMA files build here with the published parameter counts."""
import json
import math
import os

import numpy as np
import pytest
import torch

from conftest import ROOT, model_args
from uer.core.errors import UserInputError

torch.manual_seed(0)


def llama_args(**extra):
    from uer.opts import load_config
    config = load_config(os.path.join(ROOT, "models", "llama_tiny_config.json"))
    return model_args(dict(config, **extra))


def test_rms_norm_is_the_formula():
    from uer.layers.layer_norm import layer_norm_from_args
    norm = layer_norm_from_args(llama_args(layer_norm_eps=1e-5), 64)
    with torch.no_grad():
        norm.weight.normal_()
    x = torch.randn(3, 5, 64) * 4 + 1
    expected = norm.weight * x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)
    assert [n for n, _ in norm.named_parameters()] == ["weight"]
    assert (norm(x) - expected).abs().max() < 1e-5


@pytest.mark.parametrize("act,fn", [("silu", lambda x: x * torch.sigmoid(x)),
                                    ("gelu", lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2))))])
def test_gated_feed_forward_is_the_formula(act, fn):
    from uer.layers.position_ffn import feed_forward_from_args
    ff = feed_forward_from_args(llama_args(hidden_act=act, remove_transformer_bias=False))
    x = torch.randn(2, 7, 64)
    gate, up, down = ff.linear_gate, ff.linear_1, ff.linear_2
    expected = (fn(x @ gate.weight.T + gate.bias) * (x @ up.weight.T + up.bias)) @ down.weight.T + down.bias
    assert (ff(x) - expected).abs().max() < 1e-5


def reference_attention(attn, x, bias=None, scale=True, visible=None):
    """Multi-head attention written out: every query head h uses key/value head h // (heads / kv heads)."""
    b, s, _ = x.shape
    q = (x @ attn.linear_layers[0].weight.T).view(b, s, attn.heads_num, -1).transpose(1, 2)
    k = (x @ attn.linear_layers[1].weight.T).view(b, s, attn.kv_heads_num, -1).transpose(1, 2)
    v = (x @ attn.linear_layers[2].weight.T).view(b, s, attn.kv_heads_num, -1).transpose(1, 2)
    group = attn.heads_num // attn.kv_heads_num
    k, v = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
    scores = q @ k.transpose(-1, -2) / (math.sqrt(q.size(-1)) if scale else 1.0)
    if bias is not None:
        scores = scores + bias
    if visible is not None:
        scores = scores.masked_fill(~visible, float("-inf"))
    out = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, s, -1)
    return out @ attn.final_linear.weight.T


@pytest.mark.parametrize("kv", [4, 2, 1])
def test_grouped_query_attention_equals_its_repeated_heads(kv):
    from uer.layers.multi_headed_attn import attention_from_args
    attn = attention_from_args(llama_args(local_kv_heads_num=kv)).eval()
    assert attn.linear_layers[1].weight.shape == (kv * 16, 64)
    x = torch.randn(2, 9, 64)
    expected = reference_attention(attn, x)
    assert (attn(x, x, x) - expected).abs().max() < 1e-5
    # the CPU training path (dropout drawn here, p tiny) computes the same
    attn.train()
    attn.dropout = 1e-12
    assert (attn(x, x, x) - expected).abs().max() < 1e-5


def test_attention_head_size_and_no_scale():
    from uer.layers.multi_headed_attn import attention_from_args
    attn = attention_from_args(llama_args(attention_head_size=24, remove_attention_scale=True)).eval()
    assert attn.linear_layers[0].weight.shape == (96, 64) and attn.final_linear.weight.shape == (64, 96)
    x = torch.randn(2, 5, 64)
    assert (attn(x, x, x) - reference_attention(attn, x, scale=False)).abs().max() < 1e-4


def test_alibi_slopes_and_bias():
    from uer.layers.position import alibi_slopes
    assert torch.allclose(alibi_slopes(8), torch.tensor([2.0 ** -i for i in range(1, 9)]))
    twelve = [2.0 ** -i for i in range(1, 9)] + [2.0 ** -(i / 2) for i in (1, 3, 5, 7)]
    assert torch.allclose(alibi_slopes(12), torch.tensor(twelve))
    from uer.encoders import str2encoder
    args = llama_args(alibi_position_embedding=True, rotary_position_embedding=False)
    encoder = str2encoder["transformer"](args).eval()
    x, seg = torch.randn(1, 6, 64), torch.ones(1, 6, dtype=torch.long)
    layer = encoder.transformer[0]
    normed = layer.layer_norm_1(x)
    i, j = torch.arange(6)[:, None], torch.arange(6)[None, :]
    bias = alibi_slopes(4)[:, None, None] * (j - i)
    expected = reference_attention(layer.self_attn, normed, bias=bias, visible=j <= i)
    mask, causal = encoder.attention_mask(seg, 0)
    assert (layer.self_attn(normed, normed, normed, mask, causal) - expected).abs().max() < 1e-5


def test_prefix_mask_sees_the_first_segment_fully_and_the_rest_causally():
    from uer.encoders import str2encoder
    encoder = str2encoder["transformer"](llama_args(mask="causal_with_prefix")).eval()
    seg = torch.tensor([[1, 1, 1, 2, 2, 0]])
    mask, _ = encoder.attention_mask(seg, 0)
    expected = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0],
                             [1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 0]], dtype=torch.bool)
    assert torch.equal(mask[0, 0], expected)
    x = torch.randn(1, 6, 64)
    changed = x.clone()
    changed[0, 4] += 1.0  # a token of the second segment: the prefix never sees it
    with torch.no_grad():
        a, b = encoder(x, seg), encoder(changed, seg)
    assert torch.equal(a[0, :4], b[0, :4]) and not torch.equal(a[0, 4], b[0, 4])


def test_defaults_build_the_2020_transformer():
    from uer.encoders import str2encoder
    args = model_args({}, encoder="bert", hidden_size=64, emb_size=64, heads_num=4, feedforward_size=128,
                      layers_num=1)
    keys = set(str2encoder["bert"](args).state_dict())
    assert "transformer.0.layer_norm_1.gamma" in keys and "transformer.0.self_attn.linear_layers.0.bias" in keys
    assert not any("linear_gate" in k or k.endswith(".weight") and "layer_norm" in k for k in keys)


PUBLISHED = {"llama_7b": 6_738_415_616, "llama2_7b": 6_738_415_616, "llama2_13b": 13_015_864_320,
             "llama2_70b": 68_976_648_192}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_tencentpretrain_llama_configs_build_with_the_published_sizes(name):
    from argparse import Namespace
    from uer.model_builder import build_model
    from uer.opts import load_config, MODEL_DEFAULTS
    path = os.path.join(ROOT, "models", f"{name}_config.json")
    config = load_config(path)
    assert (config["embedding"], config["encoder"], config["target"]) == ("word", "transformer", "lm")
    args = Namespace(**dict(MODEL_DEFAULTS, **config, config_path=path, factorized_embedding_parameterization=False,
                            parameter_sharing=False, bidirectional=False))
    with torch.device("meta"):
        model = build_model(args, 32000)
    assert sum(p.numel() for p in model.parameters()) == PUBLISHED[name]
    assert model.encoder.causal and model.target.output_layer.bias is None
    assert model.embedding.layer_norm is None


def test_tencentpretrain_gpt2_config_means_gpt2(tmp_path):
    """TencentPretrain's gpt2_config.json: its lists, and its LM output layer without a bias."""
    from uer.opts import load_config
    config = load_config(write(tmp_path, emb_size=64, feedforward_size=256, hidden_size=64, hidden_act="gelu_fast",
                               heads_num=4, layers_num=2, max_seq_length=128, dropout=0.1, data_processor="lm",
                               embedding=["word", "pos"], remove_embedding_layernorm=True, encoder="transformer",
                               mask="causal", layernorm_positioning="pre", target=["lm"], tie_weights=True))
    assert config["embedding"] == "word_pos" and config["target"] == "lm" and config["has_lmtarget_bias"] is False
    from uer.model_builder import build_model
    model = build_model(model_args(config), 100)
    assert model.encoder.causal and model.target.output_layer.bias is None
    assert model.target.output_layer.weight is model.embedding.word_embedding.weight


def write(tmp_path, **config):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


@pytest.mark.parametrize("config,extra,message", [
    ({"local_kv_heads_num": 3}, {}, r"config\.json: local_kv_heads_num 3 does not divide heads_num 4"),
    ({"rotary_position_embedding": True}, {"embedding": "word_pos"},
     r"config\.json: rotary_position_embedding with the learned position embedding of --embedding word_pos"),
    ({"rotary_position_embedding": True, "alibi_position_embedding": True}, {}, "choose one"),
    ({"mask": "causal"}, {"encoder": "bert"}, "mask 'causal' contradicts --encoder bert"),
    ({"rotary_position_embedding": True}, {"encoder": "lstm"}, "apply to the transformer encoders"),
])
def test_incompatible_keys_are_one_line_errors(tmp_path, config, extra, message):
    from uer.model_builder import build_model
    path = write(tmp_path, **config)
    args = llama_args(config_path=path, **config, **extra)
    with pytest.raises(UserInputError, match=message):
        build_model(args, 100)


@pytest.mark.parametrize("config,message", [
    ({"mask": "bidirectional"}, "mask \"bidirectional\" is not supported; expected one of fully_visible"),
    ({"embedding": ["word", "seg"]}, r"embedding \[\"word\", \"seg\"\] is not supported"),
    ({"layernorm": "group"}, "layernorm \"group\" is not supported"),
    ({"local_kv_heads_num": 0}, "local_kv_heads_num must be a positive integer"),
    ({"rotary_position_embedding": "yes"}, "rotary_position_embedding must be true or false"),
])
def test_bad_values_name_the_file_and_key(tmp_path, config, message):
    from uer.opts import load_config
    with pytest.raises(UserInputError, match=message):
        load_config(write(tmp_path, **config))


def test_llama_style_model_pretrains_and_classifies_with_last_token_pooling(datasets, tmp_path):
    from conftest import VOCAB, load_script, run_script
    from test_pretrain import report_values
    config = os.path.join(ROOT, "models", "llama_tiny_config.json")
    out = str(tmp_path / "llama.bin")
    proc = run_script("pretrain.py", "--dataset_path", datasets["lm"], "--vocab_path", VOCAB, "--config_path", config,
                      "--output_model_path", out, "--total_steps", "60", "--report_steps", "20",
                      "--save_checkpoint_steps", "60", "--batch_size", "16", "--learning_rate", "1e-3")
    loss = report_values(proc.stdout, "loss_lm")
    assert len(loss) == 3 and loss[-1] < loss[0] - 1.0, loss
    data = os.path.join(ROOT, "datasets", "book_review")
    load_script("run_classifier.py").main([
        "--pretrained_model_path", out + "-60", "--vocab_path", VOCAB, "--config_path", config, "--pooling", "last",
        "--train_path", os.path.join(data, "train.tsv"), "--dev_path", os.path.join(data, "dev.tsv"),
        "--epochs_num", "1", "--batch_size", "32", "--learning_rate", "1e-3",
        "--output_model_path", str(tmp_path / "cls.bin"), "--metrics_path", str(tmp_path / "m.jsonl")])
    from uer.monitor.metrics import read_metrics
    dev = [r for r in read_metrics(str(tmp_path / "m.jsonl")) if r.get("split") == "dev"]
    assert dev and dev[-1]["acc"] > 0.7, dev


def test_last_token_pooling_reads_the_last_real_token():
    from uer.layers.pooling import pool
    hidden = torch.arange(2 * 4 * 1, dtype=torch.float).view(2, 4, 1)
    seg = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    assert pool(hidden, seg, "last").flatten().tolist() == [2.0, 7.0]


def word_tokenizer_file(path, words_num=60):
    from tokenizers import Tokenizer, models, pre_tokenizers
    words = ["<unk>", "<s>", "</s>"] + [f"w{i}" for i in range(3, words_num)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    tok.save(str(path))
    return str(path)


def test_hf_tokenizer_through_preprocess_pretrain_and_fine_tuning(tmp_path):
    from conftest import load_script, run_script
    tok = word_tokenizer_file(tmp_path / "tokenizer.json")
    rng = torch.Generator().manual_seed(0)
    lines = [" ".join(f"w{int(i)}" for i in torch.randint(3, 60, (12,), generator=rng)) for _ in range(300)]
    (tmp_path / "corpus.txt").write_text("\n".join(lines) + "\n")
    run_script("preprocess.py", "--corpus_path", str(tmp_path / "corpus.txt"), "--tokenizer", "hf",
               "--tokenizer_path", tok, "--dataset_path", str(tmp_path / "lm.pt"), "--target", "lm",
               "--seq_length", "32")
    from uer.data.pretrain_data import PretrainDataset
    src, _, _ = PretrainDataset(str(tmp_path / "lm.pt")).batch(np.arange(1))
    texts = {tuple(int(w[1:]) for w in line.split()) for line in lines}
    assert src[0][0] == 1 and tuple(src[0][1:13]) in texts  # <s> (the [CLS] here), then the words' own ids
    config = os.path.join(ROOT, "models", "llama_tiny_config.json")
    run_script("pretrain.py", "--dataset_path", str(tmp_path / "lm.pt"), "--tokenizer_path", tok, "--config_path",
               config, "--output_model_path", str(tmp_path / "m.bin"), "--total_steps", "5",
               "--save_checkpoint_steps", "5", "--batch_size", "8")
    rows = ["label\ttext_a"] + [f"{int(w.split()[0][1:]) % 2}\t{w}" for w in lines[:100]]
    (tmp_path / "train.tsv").write_text("\n".join(rows) + "\n")
    load_script("run_classifier.py").main([
        "--pretrained_model_path", str(tmp_path / "m.bin-5"), "--tokenizer", "hf", "--tokenizer_path", tok,
        "--config_path", config, "--pooling", "last", "--train_path", str(tmp_path / "train.tsv"),
        "--dev_path", str(tmp_path / "train.tsv"), "--epochs_num", "1", "--output_model_path", str(tmp_path / "c.bin")])
    assert (tmp_path / "c.bin").exists()


def test_hf_tokenizer_whose_id_0_is_a_real_token_is_refused_for_padded_batches(tmp_path):
    from tokenizers import Tokenizer, models
    from uer.text.hf_tokenizer import load_hf
    tok = Tokenizer(models.WordLevel({"!": 0, "a": 1, "<|endoftext|>": 2}, unk_token="<|endoftext|>"))
    tok.save(str(tmp_path / "t.json"))
    with pytest.raises(UserInputError, match=r"t\.json: id 0 is '!', a real token"):
        load_hf(str(tmp_path / "t.json"))
    vocab, _ = load_hf(str(tmp_path / "t.json"), padding=False)
    assert vocab.get("[SEP]") == 2 and vocab.get("[CLS]") == 2
    with pytest.raises(UserInputError, match="no mask token"):
        vocab.get("[MASK]")


def test_rotary_embedding_is_the_rotation_formula():
    """Dimension i of a head and i + d/2 turn together by the angle position * 10000^(-2i/d)."""
    from uer.layers.position import RotaryEmbedding, apply_rotary
    d, start, length = 8, 5, 3
    x = torch.randn(1, 2, length, d)
    cos, sin = RotaryEmbedding(d)(start, length, torch.device("cpu"))
    out = apply_rotary(x, cos, sin)
    for p in range(length):
        for i in range(d // 2):
            angle = (start + p) * 10000 ** (-2 * i / d)
            a, b = x[..., p, i], x[..., p, i + d // 2]
            assert torch.allclose(out[..., p, i], a * math.cos(angle) - b * math.sin(angle), atol=1e-5)
            assert torch.allclose(out[..., p, i + d // 2], b * math.cos(angle) + a * math.sin(angle), atol=1e-5)


def test_remove_transformer_bias_and_qkv_bias():
    from uer.layers.transformer import TransformerLayer
    names = {n for n, _ in TransformerLayer(llama_args()).named_parameters()}
    assert not any(n.endswith("bias") for n in names)
    names = {n for n, _ in TransformerLayer(llama_args(attention_qkv_bias=True)).named_parameters()}
    assert sorted(n for n in names if n.endswith("bias")) == [f"self_attn.linear_layers.{i}.bias" for i in range(3)]
    names = {n for n, _ in TransformerLayer(llama_args(remove_transformer_bias=False)).named_parameters()}
    assert {"self_attn.final_linear.bias", "feed_forward.linear_gate.bias", "feed_forward.linear_2.bias"} <= names


@pytest.mark.parametrize("name,vocab_size,published", [
    # share_embedding + tie_weights there: the output layer keeps a table of its own (tied to the target embedding
    # before share_embedding replaced it), one vocabulary x width more than the HF model
    ("t5_small", 32128, 60_506_624 + 32128 * 512), ("t5-v1_1_small", 32128, 76_961_152),
    # facebook/bart-base has 139,420,416 parameters, with 1,026 positions a stack (BART's offset of 2) and its
    # final_logits_bias a buffer: TencentPretrain's config has 1,024 and an output layer bias (and table).
    ("bart_base", 50265, 139_420_416 - 2 * 2 * 768 + 50265 + 50265 * 768)])
def test_tencentpretrain_seq2seq_configs_build_with_the_published_sizes(name, vocab_size, published):
    """With their vocabularies, TencentPretrain's T5 and BART configs are the models of those sizes there."""
    from argparse import Namespace
    from uer.model_builder import build_model
    from uer.opts import load_config, MODEL_DEFAULTS
    path = os.path.join(ROOT, "models", f"{name}_config.json")
    config = load_config(path)
    args = Namespace(**dict(MODEL_DEFAULTS, **config, config_path=path, factorized_embedding_parameterization=False,
                            parameter_sharing=False, bidirectional=False))
    with torch.device("meta"):
        model = build_model(args, vocab_size)
    assert sum(p.numel() for p in model.parameters()) == published
    assert model.tgt_embedding.word_embedding.weight is model.embedding.word_embedding.weight
    assert not model.encoder.causal and model.decoder.causal
    assert model.decoder.layers_num == config["decoder_layers_num"]


def test_encoder_decoder_configs_are_refused_where_they_cannot_run(tmp_path):
    from uer.model_builder import build_body
    path = os.path.join(ROOT, "models", "t5_small_config.json")
    from uer.opts import load_config
    with pytest.raises(UserInputError, match="an encoder-decoder model"):
        build_body(model_args(load_config(path), config_path=path), 100)


def test_conversion_of_a_broken_folder_names_the_file(tmp_path):
    from conftest import load_script
    folder = tmp_path / "hf"
    folder.mkdir()
    argv = ["--input_model_path", str(folder), "--output_model_path", str(tmp_path / "x.bin")]
    convert = load_script("scripts/convert_llama_from_huggingface_to_uer.py").main
    with pytest.raises(UserInputError, match=r"config\.json: config\.json not found"):
        convert(argv)
    (folder / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 96, "num_attention_heads": 4,
        "num_hidden_layers": 1}))
    with pytest.raises(UserInputError, match="neither model.safetensors.index.json nor model.safetensors"):
        convert(argv)
    (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(UserInputError, match=r"model\.safetensors: not a readable safetensors file"):
        convert(argv)
    assert not (tmp_path / "x.bin").exists()
    from uer.interop.hf_files import iter_tensors  # every HF family's reader
    with pytest.raises(UserInputError, match=r"model\.safetensors: not a readable safetensors file"):
        dict(iter_tensors(str(folder)))


@pytest.mark.parametrize("scheme,flag,base", [("rotary", "rotary_position_embedding", {}),
                                              ("alibi", "alibi_position_embedding", {"rotary_position_embedding": False}),
                                              ("relative", "relative_position_embedding",
                                               {"rotary_position_embedding": False})])
def test_the_position_key_is_the_same_model_as_the_boolean(tmp_path, scheme, flag, base):
    """"position": NAME and TencentPretrain's boolean of that scheme build one model: the same keys, the same
    outputs; the config read either way holds the boolean (so it is written back as TencentPretrain reads it)."""
    from uer.layers.position import str2position
    from uer.model_builder import build_model
    from uer.opts import load_config
    outputs = []
    for given in ({"position": scheme}, {flag: True}):
        config = load_config(write(tmp_path, **given))
        assert config[flag] is True
        torch.manual_seed(0)
        model = build_model(llama_args(**dict(base, **given)), 100).eval()
        assert isinstance(model.encoder.positions, str2position[scheme])
        src = torch.randint(1, 100, (2, 9))
        outputs.append((sorted(model.state_dict()), model.encoder(model.embedding(src, torch.ones_like(src)),
                                                                   torch.ones_like(src))))
    assert outputs[0][0] == outputs[1][0]
    assert torch.equal(outputs[0][1], outputs[1][1])


@pytest.mark.parametrize("config,message", [
    ({"position": "rotary", "alibi_position_embedding": True}, "position 'rotary' and alibi_position_embedding"),
    ({"position": "spiral"}, "position 'spiral' is not one of rotary, alibi, relative"),
])
def test_a_position_key_that_contradicts_or_is_unknown_is_refused(tmp_path, config, message):
    from uer.opts import load_config
    with pytest.raises(UserInputError, match=message):
        load_config(write(tmp_path, **config))
