"""LLaMA-style decoders through HuggingFace transformers: tiny LlamaForCausalLM, Qwen2ForCausalLM and
MistralForCausalLM with random, perturbed weights, converted to UER and back. Needs
`pip install -r requirements-interop.txt`; skipped without it."""
import json
from argparse import Namespace

import pytest
import torch

from conftest import back_to_hf, load_script, perturbed_hf_model
from uer.core.errors import UserInputError

transformers = pytest.importorskip("transformers")
VOCAB_SIZE = 300
TO_UER = "scripts/convert_llama_from_huggingface_to_uer.py"
TO_HF = "scripts/convert_llama_from_uer_to_huggingface.py"


def hf_config(family, **extra):
    sizes = dict(vocab_size=VOCAB_SIZE, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-5,
                 tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    sizes.update(extra)
    cls = {"llama": transformers.LlamaConfig, "qwen2": transformers.Qwen2Config,
           "mistral": transformers.MistralConfig}[family]
    return cls(**sizes)


def hf_model(family, folder, shard=False, **extra):
    config = hf_config(family, **extra)
    cls = {"llama": transformers.LlamaForCausalLM, "qwen2": transformers.Qwen2ForCausalLM,
           "mistral": transformers.MistralForCausalLM}[family]
    return perturbed_hf_model(cls, config, folder, max_shard_size="100KB" if shard else "10GB")


def uer_model(model_path, config_path, vocab=VOCAB_SIZE):
    from uer.model_builder import build_model
    from uer.model_loader import load_model
    from uer.opts import load_config, MODEL_DEFAULTS
    args = Namespace(**dict(MODEL_DEFAULTS, **load_config(str(config_path)), config_path=str(config_path)))
    args.factorized_embedding_parameterization = args.parameter_sharing = args.bidirectional = False
    model = build_model(args, vocab).eval()
    report = load_model(model, str(model_path))
    assert not report["missing"] and not report["unexpected"], report
    return model


def convert(hf_folder, out, *extra, vocab=VOCAB_SIZE):
    load_script(TO_UER).main(["--input_model_path", str(hf_folder), "--output_model_path", str(out / "uer.bin"),
                              *extra])
    return uer_model(out / "uer.bin", out / "uer.json", vocab)


def logits(model, src):
    with torch.no_grad():
        return model.target.word_logits(model.encode(src, torch.ones_like(src)))


@pytest.mark.parametrize("family,extra", [("llama", {}), ("qwen2", {}), ("mistral", {}),
                                          ("llama", {"tie_word_embeddings": True, "num_key_value_heads": 1}),
                                          ("llama", {"head_dim": 32, "rope_theta": 500.0})])
def test_converted_model_gives_transformers_logits(tmp_path, family, extra):
    hf = hf_model(family, tmp_path / "hf", **extra)
    ours = convert(tmp_path / "hf", tmp_path)
    src = torch.randint(3, VOCAB_SIZE, (3, 40))
    with torch.no_grad():
        theirs = hf(src).logits
    assert (logits(ours, src) - theirs).abs().max() <= 1e-5


def test_sharded_checkpoint_converts_and_round_trips_bit_identically(tmp_path):
    hf = hf_model("qwen2", tmp_path / "hf", shard=True)
    assert (tmp_path / "hf" / "model.safetensors.index.json").exists()
    ours = convert(tmp_path / "hf", tmp_path)
    back = back_to_hf(TO_HF, tmp_path, hf, loader=transformers.AutoModelForCausalLM)
    src = torch.randint(3, VOCAB_SIZE, (2, 17))
    with torch.no_grad():
        assert torch.equal(back(src).logits, hf(src).logits)
    assert (logits(ours, src) - hf(src).logits).abs().max() <= 1e-5


ROPE_SCALINGS = {
    "linear": dict(rope_parameters={"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0}),
    "dynamic": dict(rope_parameters={"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0},
                    max_position_embeddings=32),
    "llama3": dict(rope_parameters={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 16,
                                    "rope_theta": 500000.0})}


@pytest.mark.parametrize("scaling", [{}, ROPE_SCALINGS["dynamic"]], ids=["plain", "dynamic"])
def test_greedy_continuation_equals_transformers_generate(tmp_path, scaling):
    """Dynamic scaling: the prompt within the original 32 positions, the continuation past them (each step's
    frequencies from its length, the cached keys as they were rotated)."""
    hf = hf_model("llama", tmp_path / "hf", **scaling)
    ours = convert(tmp_path / "hf", tmp_path)
    prompt = [1, 17, 201, 45, 99]
    with torch.no_grad():
        expected = hf.generate(torch.tensor([prompt]), max_new_tokens=30, do_sample=False, eos_token_id=None,
                               pad_token_id=0)[0, len(prompt):].tolist()
    from uer.generation.decoder_only import Decoder
    decoder = Decoder(ours, torch.device("cpu"))
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(30):
            ids.append(int(ours.target.word_logits(decoder(ids)).argmax()))
    assert decoder.cache is not None and ids[len(prompt):] == expected


@pytest.mark.parametrize("offset", [0, 1, 37])
def test_rope_with_the_cache_equals_re_encoding(tmp_path, offset):
    hf_model("llama", tmp_path / "hf")
    model = convert(tmp_path / "hf", tmp_path)
    src = torch.randint(3, VOCAB_SIZE, (1, offset + 6))
    full = model.encode(src, torch.ones_like(src))
    cache = [{} for _ in range(model.encoder.layers_num)]
    with torch.no_grad():
        if offset:
            model.encoder(model.embedding(src[:, :offset], None), torch.ones_like(src[:, :offset]), cache)
        new = src[:, offset:]
        stepped = model.encoder(model.embedding(new, None, start=offset), torch.ones_like(new), cache)
    assert (stepped - full[:, offset:]).abs().max() <= 1e-5


def tencentpretrain_checkpoint(hf, heads, kv_heads):
    """The HF weights in TencentPretrain's names and RoPE pairing, as its converter writes them."""
    def un_permute(w, n):
        rows, dim = w.shape
        return w.reshape(n, 2, rows // n // 2, dim).transpose(1, 2).reshape(rows, dim)
    from uer.interop import convert_llama
    out = {}
    for name, w in hf.state_dict().items():
        uer = convert_llama.hf_name_to_uer(name)
        uer = {"embedding.word_embedding.weight": "embedding.word.embedding.weight",
               "target.output_layer.weight": "target.lm.output_layer.weight"}.get(uer, uer)
        if "q_proj" in name:
            w = un_permute(w, heads)
        elif "k_proj" in name:
            w = un_permute(w, kv_heads)
        out[uer] = w.clone()
    return out


def test_tencentpretrain_checkpoint_converts_with_its_config(tmp_path):
    hf = hf_model("llama", tmp_path / "hf")
    torch.save(tencentpretrain_checkpoint(hf, 4, 2), tmp_path / "tp.bin")
    tp_config = {"emb_size": 64, "feedforward_size": 96, "hidden_size": 64, "hidden_act": "silu", "heads_num": 4,
                 "local_kv_heads_num": 2, "layers_num": 2, "dropout": 0.0, "data_processor": "lm",
                 "max_seq_length": 128, "embedding": ["word"], "remove_transformer_bias": True,
                 "remove_embedding_layernorm": True, "rotary_position_embedding": True, "encoder": "transformer",
                 "feed_forward": "gated", "mask": "causal", "layernorm_positioning": "pre", "layernorm": "rms",
                 "layernorm_eps": 1e-5, "target": ["lm"]}
    (tmp_path / "tp.json").write_text(json.dumps(tp_config))
    ours = convert(tmp_path / "tp.bin", tmp_path, "--from", "tencentpretrain",
                   "--config_path", str(tmp_path / "tp.json"))
    src = torch.randint(3, VOCAB_SIZE, (2, 30))
    with torch.no_grad():
        assert (logits(ours, src) - hf(src).logits).abs().max() <= 1e-5


@pytest.mark.parametrize("change,message", [({"num_attention_heads": None}, "no num_attention_heads"),
                                            ({"num_key_value_heads": 3}, "num_key_value_heads 3 does not divide")])
def test_a_config_that_cannot_describe_the_model_is_refused_at_conversion(tmp_path, change, message):
    hf_model("llama", tmp_path / "hf")
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    config.update(change)
    (tmp_path / "hf" / "config.json").write_text(json.dumps({k: v for k, v in config.items() if v is not None}))
    with pytest.raises(UserInputError, match=message):
        convert(tmp_path / "hf", tmp_path)


def test_tencentpretrain_checkpoint_loads_directly_with_its_config(tmp_path):
    """No conversion: --pretrained_model_path / load_model reads its names and its rotary pairing."""
    hf = hf_model("llama", tmp_path / "hf")
    torch.save(tencentpretrain_checkpoint(hf, 4, 2), tmp_path / "tp.bin")
    ours = convert(tmp_path / "hf", tmp_path)
    config = json.loads((tmp_path / "uer.json").read_text())
    tp_config = dict(config, embedding=["word"], target=["lm"])
    del tp_config["has_lmtarget_bias"], tp_config["tie_weights"]
    (tmp_path / "tp.json").write_text(json.dumps(tp_config))
    fresh = uer_model(tmp_path / "tp.bin", tmp_path / "tp.json")
    src = torch.randint(3, VOCAB_SIZE, (2, 30))
    with torch.no_grad():
        assert (logits(fresh, src) - hf(src).logits).abs().max() <= 1e-5
    assert (logits(fresh, src) - logits(ours, src)).abs().max() <= 1e-6


@pytest.mark.parametrize("kind", sorted(ROPE_SCALINGS))
def test_rope_scaling_gives_transformers_logits(tmp_path, kind):
    """Each rope_type converted and computed as transformers does; dynamic on a sequence past the original
    length (its base grows with the length), cached decoding equal to the whole pass."""
    hf = hf_model("llama", tmp_path / "hf", **ROPE_SCALINGS[kind])
    ours = convert(tmp_path / "hf", tmp_path)
    assert json.loads((tmp_path / "uer.json").read_text())["rope_scaling"]["rope_type"] == kind
    src = torch.randint(3, VOCAB_SIZE, (2, 48))
    with torch.no_grad():
        assert (logits(ours, src) - hf(src).logits).abs().max() <= 1e-5
    back = tmp_path / "back" / "model.safetensors"
    load_script(TO_HF).main(["--input_model_path", str(tmp_path / "uer.bin"), "--config_path",
                             str(tmp_path / "uer.json"), "--output_model_path", str(back)])
    again = transformers.LlamaForCausalLM.from_pretrained(str(back.parent)).eval()
    with torch.no_grad():
        assert torch.equal(again(src).logits, hf(src).logits)


def test_rope_scaling_of_transformers_4_configs_and_unsupported_types(tmp_path):
    hf = hf_model("llama", tmp_path / "hf", **ROPE_SCALINGS["linear"])
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    config.pop("rope_parameters", None)
    (tmp_path / "hf" / "config.json").write_text(json.dumps(dict(config, rope_theta=10000.0,
                                                                 rope_scaling={"type": "linear", "factor": 4.0})))
    ours = convert(tmp_path / "hf", tmp_path)
    src = torch.randint(3, VOCAB_SIZE, (1, 40))
    with torch.no_grad():
        assert (logits(ours, src) - hf(src).logits).abs().max() <= 1e-5
    (tmp_path / "hf" / "config.json").write_text(json.dumps(dict(config, rope_scaling={"rope_type": "yarn",
                                                                                      "factor": 4.0})))
    with pytest.raises(UserInputError, match="rope scaling 'yarn' is not supported; supported: linear, dynamic"):
        convert(tmp_path / "hf", tmp_path)


def test_unsupported_architecture_is_named(tmp_path):
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2"}))
    with pytest.raises(UserInputError, match="Gemma2ForCausalLM.*LlamaForCausalLM"):
        load_script(TO_UER).main(["--input_model_path", str(folder), "--output_model_path", str(tmp_path / "x.bin")])


def word_tokenizer():
    """A tokenizer.json as HF ships them: <unk> 0, <s> 1, </s> 2, <s> added before each text."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    words = ["<unk>", "<s>", "</s>"] + [f"w{i}" for i in range(3, VOCAB_SIZE)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    return tok


def test_generate_script_with_the_model_s_tokenizer_continues_as_transformers(tmp_path):
    hf = hf_model("llama", tmp_path / "hf")
    tok = word_tokenizer()
    tok.save(str(tmp_path / "hf" / "tokenizer.json"))
    convert(tmp_path / "hf", tmp_path)
    (tmp_path / "in.txt").write_text("w5 w17 w200 w33\n")
    load_script("scripts/generate.py").main([
        "--pretrained_model_path", str(tmp_path / "uer.bin"), "--config_path", str(tmp_path / "uer.json"),
        "--tokenizer", "hf", "--tokenizer_path", str(tmp_path / "hf" / "tokenizer.json"),
        "--input_path", str(tmp_path / "in.txt"), "--output_path", str(tmp_path / "out.txt"),
        "--max_new_tokens", "12"])
    prompt = tok.encode("w5 w17 w200 w33").ids
    assert prompt[0] == 1
    with torch.no_grad():
        expected = hf.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False, eos_token_id=2,
                               pad_token_id=0)[0].tolist()
    assert (tmp_path / "out.txt").read_text() == tok.decode(expected, skip_special_tokens=True) + "\n"
