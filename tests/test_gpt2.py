"""GPT-2 through HuggingFace transformers: a small GPT2LMHeadModel with random weights, saved with
save_pretrained, converted to UER and back; the converted model gives transformers' next-token logits and
generates with the key/value cache. Needs `pip install -r requirements-interop.txt`; skipped without it."""
import json

import pytest
import torch

from conftest import VOCAB, perturbed_hf_model, run_script
from uer.core.errors import UserInputError

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf_gpt2(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpt2")
    config = transformers.GPT2Config(vocab_size=676, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                                     layer_norm_epsilon=1e-5)
    return perturbed_hf_model(transformers.GPT2LMHeadModel, config, out / "hf", noise=0.1), out


def uer_model(out):
    from uer.model_builder import build_model
    from uer.model_loader import load_model
    from uer.opts import load_config, MODEL_DEFAULTS
    from argparse import Namespace
    config = load_config(str(out / "gpt2_uer.json"))
    args = Namespace(**dict(MODEL_DEFAULTS, **config))
    args.dropout = 0.0
    args.labels_num, args.factorized_embedding_parameterization, args.parameter_sharing = 2, False, False
    args.bidirectional = False
    model = build_model(args, 676).eval()
    report = load_model(model, str(out / "gpt2_uer.bin"))
    assert not report["missing"] and not report["unexpected"]
    return model


def test_converted_gpt2_gives_transformers_logits(hf_gpt2):
    hf, out = hf_gpt2
    run_script("scripts/convert_gpt2_from_huggingface_to_uer.py", "--input_model_path", str(out / "hf"),
               "--output_model_path", str(out / "gpt2_uer.bin"))
    config = json.loads((out / "gpt2_uer.json").read_text())
    assert config["layernorm_positioning"] == "pre" and config["embedding"] == "word_pos"
    model = uer_model(out)
    src = torch.randint(1, 676, (3, 20))
    with torch.no_grad():
        ours = model.target.word_logits(model.encode(src, torch.ones_like(src)))
        theirs = hf(src).logits
    assert (ours - theirs).abs().max() <= 1e-5, (ours - theirs).abs().max()


def test_a_gpt2_file_whose_lm_head_differs_converts_untied(hf_gpt2, tmp_path):
    """The flag alone does not decide tying: an lm_head other than the embedding keeps its own table."""
    from safetensors.torch import load_file, save_file
    hf, out = hf_gpt2
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text((out / "hf" / "config.json").read_text())
    state = load_file(str(out / "hf" / "model.safetensors"))
    head = state["transformer.wte.weight"] + torch.randn_like(state["transformer.wte.weight"])
    save_file(dict(state, **{"lm_head.weight": head}), str(folder / "model.safetensors"))
    proc = run_script("scripts/convert_gpt2_from_huggingface_to_uer.py", "--input_model_path", str(folder),
                      "--output_model_path", str(tmp_path / "gpt2_uer.bin"))
    assert "converted with an output layer of its own" in proc.stdout
    model = uer_model(tmp_path)
    assert model.target.output_layer.weight is not model.embedding.word_embedding.weight
    src = torch.randint(1, 676, (2, 10))
    with torch.no_grad():
        hidden = model.encode(src, torch.ones_like(src))
        assert torch.allclose(model.target.word_logits(hidden), hidden @ head.T, atol=1e-5)


def test_gpt2_round_trip_is_bit_identical(hf_gpt2, tmp_path):
    _, out = hf_gpt2
    run_script("scripts/convert_gpt2_from_huggingface_to_uer.py", "--input_model_path", str(out / "hf"),
               "--output_model_path", str(tmp_path / "uer.bin"))
    back = tmp_path / "back"
    back.mkdir()
    run_script("scripts/convert_gpt2_from_uer_to_huggingface.py", "--input_model_path", str(tmp_path / "uer.bin"),
               "--output_model_path", str(back / "model.safetensors"), "--config_path", str(tmp_path / "uer.json"))
    from safetensors.torch import load_file
    original, again = load_file(str(out / "hf" / "model.safetensors")), load_file(str(back / "model.safetensors"))
    assert set(original) == set(again)
    for key in original:
        assert torch.equal(original[key], again[key]), key
    reloaded = transformers.GPT2LMHeadModel.from_pretrained(str(back)).eval()
    src = torch.randint(1, 676, (2, 9))
    with torch.no_grad():
        assert torch.equal(reloaded(src).logits, hf_gpt2[0](src).logits)


def test_generate_with_a_converted_gpt2_uses_the_cache(hf_gpt2, tmp_path):
    hf, out = hf_gpt2
    run_script("scripts/convert_gpt2_from_huggingface_to_uer.py", "--input_model_path", str(out / "hf"),
               "--output_model_path", str(tmp_path / "g.bin"))
    prompt = tmp_path / "in.txt"
    prompt.write_text("书很好", encoding="utf-8")
    proc = run_script("scripts/generate.py", "--pretrained_model_path", str(tmp_path / "g.bin"),
                      "--vocab_path", VOCAB, "--config_path", str(tmp_path / "g.json"), "--input_path", str(prompt),
                      "--output_path", str(tmp_path / "out.txt"), "--seq_length", "20")
    assert "warning" not in proc.stderr  # the converted config is read whole: no flag, no ignored key
    # greedy decoding equals transformers' greedy continuation of the same ids
    from uer.text.tokenizers import load_vocab_and_tokenizer
    from argparse import Namespace
    vocab, tokenizer = load_vocab_and_tokenizer(Namespace(vocab_path=VOCAB, spm_model_path=None, tokenizer="bert"))
    ids = [vocab.get("[CLS]")] + tokenizer.encode("书很好")
    with torch.no_grad():
        while len(ids) < 20:
            token = int(hf(torch.tensor([ids])).logits[0, -1].argmax())
            if token == vocab.get("[SEP]"):
                break
            ids.append(token)
    expected = "书很好" + "".join(t[2:] if t.startswith("##") else t for t in (vocab.i2w[i] for i in ids[4:]))
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").strip() == expected


def test_untied_or_post_ln_models_are_refused():
    from uer.interop.convert_gpt2 import from_uer as uer_to_gpt2, config_from_uer as uer_config_to_gpt2
    with pytest.raises(UserInputError, match="pre"):
        uer_config_to_gpt2({"layernorm_positioning": "post", "hidden_size": 8}, 10)
    with pytest.raises(UserInputError, match="not a UER GPT-2 model"):
        uer_to_gpt2({"encoder.transformer.0.layer_norm_1.gamma": torch.ones(2)})


def test_pre_ln_gpt_pretrains_like_post_ln(datasets, tmp_path):
    """pretrain.py --encoder gpt --target lm with a GPT-2-style config lowers its loss like the post-LN one."""
    losses = {}
    for positioning in ("post", "pre"):
        config = tmp_path / f"{positioning}.json"
        config.write_text(json.dumps({"emb_size": 64, "hidden_size": 64, "feedforward_size": 256, "heads_num": 4,
                                      "layers_num": 2, "dropout": 0.0, "layernorm_positioning": positioning,
                                      "remove_embedding_layernorm": positioning == "pre",
                                      "layer_norm_unbiased": False, "layer_norm_eps": 1e-5,
                                      "hidden_act": "gelu_new"}))
        out = str(tmp_path / f"{positioning}.bin")
        run_script("pretrain.py", "--dataset_path", datasets["lm"], "--vocab_path", VOCAB, "--output_model_path", out,
                   "--config_path", str(config), "--embedding", "word_pos" if positioning == "pre" else "bert",
                   "--encoder", "gpt", "--target", "lm", "--total_steps", "60", "--report_steps", "10",
                   "--batch_size", "16", "--learning_rate", "1e-3", "--bias_correction")
        records = [json.loads(line) for line in open(out + ".metrics.jsonl")]
        losses[positioning] = [r["loss"] for r in records]
    for positioning, curve in losses.items():
        assert curve[-1] < 0.8 * curve[0], (positioning, curve)
    assert abs(losses["pre"][-1] - losses["post"][-1]) < 0.15 * losses["post"][-1], losses
