"""Encoder-decoder models through HuggingFace transformers: tiny T5ForConditionalGeneration v1.0 (relu, tied
output) and v1.1 (gated-gelu, untied, d_kv other than d_model / heads) and BartForConditionalGeneration with
random, perturbed weights, converted to UER and back. Needs `pip install -r requirements-interop.txt`; skipped
without it."""
from argparse import Namespace

import pytest
import torch

from conftest import back_to_hf, load_script

transformers = pytest.importorskip("transformers")
VOCAB_SIZE = 200
FAMILIES = {
    "t5 v1.0": ("T5", dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=3, num_heads=4,
                           feed_forward_proj="relu", tie_word_embeddings=True)),
    "t5 v1.1": ("T5", dict(d_model=32, d_kv=16, d_ff=48, num_layers=2, num_decoder_layers=2, num_heads=3,
                           feed_forward_proj="gated-gelu", tie_word_embeddings=False,
                           relative_attention_num_buckets=16)),
    "bart": ("Bart", dict(d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
                          decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                          max_position_embeddings=40)),
    "pegasus": ("Pegasus", dict(d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4,
                                decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                                max_position_embeddings=40, scale_embedding=True, activation_function="relu")),
}


def hf_model(folder, family, noise=0.05, eos_bias=0.0):
    prefix, sizes = FAMILIES[family]
    config = getattr(transformers, prefix + "Config")(vocab_size=VOCAB_SIZE, **sizes)
    torch.manual_seed(0)
    model = getattr(transformers, prefix + "ForConditionalGeneration")(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embed_positions" not in name or prefix != "Pegasus":  # PEGASUS's: fixed sinusoids
                p.add_(torch.randn_like(p) * noise)
        if prefix in ("Bart", "Pegasus"):
            model.final_logits_bias.normal_(0, noise)
            model.final_logits_bias[0, 2] += eos_bias  # </s> likelier: hypotheses of several lengths
    model.save_pretrained(folder)
    return model


def convert(folder, out):
    load_script("scripts/convert_seq2seq_from_huggingface_to_uer.py").main(
        ["--input_model_path", str(folder), "--output_model_path", str(out / "uer.bin")])
    from uer.model_builder import build_model
    from uer.model_loader import load_model
    from uer.opts import load_config, MODEL_DEFAULTS
    config = load_config(str(out / "uer.json"))
    args = Namespace(**dict(MODEL_DEFAULTS, **config, config_path=str(out / "uer.json")))
    args.factorized_embedding_parameterization = args.parameter_sharing = args.bidirectional = False
    model = build_model(args, VOCAB_SIZE).eval()
    report = load_model(model, str(out / "uer.bin"))
    assert not report["missing"] and not report["unexpected"], report
    return model


def batch():
    g = torch.Generator().manual_seed(1)
    src = torch.randint(3, VOCAB_SIZE, (2, 11), generator=g)
    tgt = torch.randint(3, VOCAB_SIZE, (2, 7), generator=g)
    seg = torch.ones_like(src)
    seg[1, 8:] = 0  # padding: where the attention mask says so (the ids do not matter)
    return src, seg, tgt


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_converted_model_gives_transformers_decoder_logits(tmp_path, family):
    hf = hf_model(tmp_path / "hf", family)
    ours = convert(tmp_path / "hf", tmp_path)
    src, seg, tgt = batch()
    with torch.no_grad():
        theirs = hf(input_ids=src, attention_mask=seg, decoder_input_ids=tgt).logits
        mine = ours.target.word_logits(ours.decode(ours.encode(src, seg), seg, tgt, torch.ones_like(tgt)))
    # 1e-5, or a few float32 steps of the largest logit where those reach ~20 (v1.1's untied head, std 1)
    assert (mine - theirs).abs().max() <= max(1e-5, 1e-6 * theirs.abs().max())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_round_trip_is_bit_identical(tmp_path, family):
    hf = hf_model(tmp_path / "hf", family)
    convert(tmp_path / "hf", tmp_path)
    back = back_to_hf("scripts/convert_seq2seq_from_uer_to_huggingface.py", tmp_path, hf)
    src, seg, tgt = batch()
    with torch.no_grad():
        assert torch.equal(back(input_ids=src, decoder_input_ids=tgt).logits,
                           hf(input_ids=src, decoder_input_ids=tgt).logits)


@pytest.mark.parametrize("family", ["t5 v1.0", "bart"])
def test_decoder_cache_equals_re_decoding(tmp_path, family):
    hf_model(tmp_path / "hf", family)
    model = convert(tmp_path / "hf", tmp_path)
    src, seg, tgt = (t[:1] for t in batch())
    with torch.no_grad():
        memory = model.encode(src, seg)
        full = model.decode(memory, seg, tgt, torch.ones_like(tgt))
        cache = [{} for _ in range(model.decoder.layers_num)]
        steps = [model.decode(memory, seg, tgt[:, i:i + 1], torch.ones_like(tgt[:, :1]), cache, start=i)
                 for i in range(tgt.size(1))]
    assert (torch.cat(steps, 1) - full).abs().max() <= 1e-5


def test_other_encoder_decoder_architectures_are_named(tmp_path):
    from uer.core.errors import UserInputError
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "mbart"}')
    with pytest.raises(UserInputError, match="model_type 'mbart' is not an encoder-decoder model converted here"):
        load_script("scripts/convert_seq2seq_from_huggingface_to_uer.py").main(
            ["--input_model_path", str(folder), "--output_model_path", str(tmp_path / "x.bin")])


def test_t5_v1_1_as_transformers_5_saves_it_converts_untied(tmp_path, capsys):
    """transformers 5 writes tie_word_embeddings true for every T5 (v1.1 told by scale_decoder_outputs false)
    and keeps v1.1's own lm_head: tying is decided from the tensors."""
    import json
    from safetensors.torch import save_file
    hf = hf_model(tmp_path / "made", "t5 v1.1")
    hf.config.scale_decoder_outputs = False
    with torch.no_grad():
        hf.lm_head.weight = torch.nn.Parameter(hf.shared.weight.clone() + torch.randn_like(hf.shared.weight))
    folder = tmp_path / "hf"
    folder.mkdir()
    config = json.loads((tmp_path / "made" / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(dict(config, tie_word_embeddings=True,
                                                        scale_decoder_outputs=False)))
    save_file({k: v.contiguous() for k, v in hf.state_dict().items() if "embed_tokens" not in k},
              str(folder / "model.safetensors"))
    ours = convert(folder, tmp_path)
    assert "converted with an output layer of its own" in capsys.readouterr().out
    assert ours.target.output_layer.weight is not ours.embedding.word_embedding.weight
    src, seg, tgt = batch()
    with torch.no_grad():
        theirs = hf(input_ids=src, attention_mask=seg, decoder_input_ids=tgt).logits
        mine = ours.target.word_logits(ours.decode(ours.encode(src, seg), seg, tgt, torch.ones_like(tgt)))
    assert (mine - theirs).abs().max() <= max(1e-5, 1e-6 * theirs.abs().max())


def test_a_stack_embedding_other_than_the_shared_one_is_refused(tmp_path):
    from safetensors.torch import save_file
    from uer.core.errors import UserInputError
    hf = hf_model(tmp_path / "hf", "t5 v1.0")
    state = {k: v.clone().contiguous() for k, v in hf.state_dict().items()}
    state["decoder.embed_tokens.weight"] = state["shared.weight"] + 1
    save_file(state, str(tmp_path / "hf" / "model.safetensors"))
    with pytest.raises(UserInputError, match="decoder.embed_tokens.weight differs from the shared word embedding"):
        convert(tmp_path / "hf", tmp_path)


def test_generation_settings_the_scripts_do_not_apply_are_named(tmp_path, capsys):
    import json
    hf_model(tmp_path / "hf", "bart")
    (tmp_path / "hf" / "generation_config.json").write_text(json.dumps(
        {"forced_eos_token_id": 2, "forced_bos_token_id": 0, "no_repeat_ngram_size": 3, "num_beams": 4}))
    convert(tmp_path / "hf", tmp_path)
    out = capsys.readouterr().out
    assert "sets forced_eos_token_id 2, forced_bos_token_id 0, no_repeat_ngram_size 3: generate_seq2seq.py does " \
           "not apply them" in out


EOS_BIAS = 6.0  # BART's </s> bias: some hypotheses end after 0 to 2 tokens, others run to the limit


def word_tokenizer(folder, family):
    """A tokenizer.json as each family ships them (T5: <pad> 0, </s> 1, </s> after the text; BART: <s> 0,
    <pad> 1, </s> 2, <s> text </s>), over words w3, w4, ..."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    specials = ["<pad>", "</s>", "<unk>"] if family.startswith("t5") else ["<s>", "<pad>", "</s>", "<unk>"]
    words = specials + [f"w{i}" for i in range(len(specials), VOCAB_SIZE)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    template = "$A </s>" if family.startswith("t5") else "<s> $A </s>"
    tok.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[(t, words.index(t)) for t in ("<s>", "</s>") if t in words])
    tok.add_special_tokens(specials)
    tok.save(str(folder / "tokenizer.json"))
    return tok


@pytest.mark.parametrize("family", ["t5 v1.0", "bart"])
def test_generate_seq2seq_greedy_equals_transformers_generate(tmp_path, family):
    hf = hf_model(tmp_path / "hf", family, noise=0.5)  # varied continuations, not one token repeated
    tok = word_tokenizer(tmp_path / "hf", family)
    convert(tmp_path / "hf", tmp_path)
    lines = ["w5 w17 w100 w33 w8", "w150 w9"]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    load_script("scripts/generate_seq2seq.py").main([
        "--pretrained_model_path", str(tmp_path / "uer.bin"), "--config_path", str(tmp_path / "uer.json"),
        "--tokenizer", "hf", "--tokenizer_path", str(tmp_path / "hf" / "tokenizer.json"),
        "--input_path", str(tmp_path / "in.txt"), "--output_path", str(tmp_path / "out.txt"),
        "--max_new_tokens", "12", "--seq_length", "32"])
    expected = []
    with torch.no_grad():
        for line in lines:
            out = hf.generate(torch.tensor([tok.encode(line).ids]), max_new_tokens=12, do_sample=False, num_beams=1,
                              decoder_start_token_id=0 if family.startswith("t5") else 2,
                              forced_eos_token_id=None, forced_bos_token_id=None, use_cache=False)
            expected.append(tok.decode(out[0].tolist(), skip_special_tokens=True))
    assert (tmp_path / "out.txt").read_text().splitlines() == expected
    assert len(set(" ".join(expected).split())) > 1  # not a single token repeated


@pytest.mark.parametrize("family,beams,penalty", [("t5 v1.1", 3, 1.0), ("bart", 4, 0.6), ("t5 v1.0", 2, 2.0)])
def test_generate_seq2seq_beam_search_equals_transformers(tmp_path, family, beams, penalty):
    hf = hf_model(tmp_path / "hf", family, noise=0.5, eos_bias=EOS_BIAS)
    tok = word_tokenizer(tmp_path / "hf", family)
    convert(tmp_path / "hf", tmp_path)
    lines = ["w5 w17 w100 w33 w8", "w150 w9", "w44 w45 w46 w47"]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    load_script("scripts/generate_seq2seq.py").main([
        "--pretrained_model_path", str(tmp_path / "uer.bin"), "--config_path", str(tmp_path / "uer.json"),
        "--tokenizer", "hf", "--tokenizer_path", str(tmp_path / "hf" / "tokenizer.json"),
        "--input_path", str(tmp_path / "in.txt"), "--output_path", str(tmp_path / "out.txt"),
        "--max_new_tokens", "10", "--seq_length", "32", "--beam_width", str(beams), "--length_penalty", str(penalty)])
    expected = []
    with torch.no_grad():
        for line in lines:
            out = hf.generate(torch.tensor([tok.encode(line).ids]), max_new_tokens=10, do_sample=False,
                              num_beams=beams, length_penalty=penalty, early_stopping=False,
                              decoder_start_token_id=0 if family.startswith("t5") else 2,
                              forced_eos_token_id=None, forced_bos_token_id=None, use_cache=False)
            expected.append(tok.decode(out[0].tolist(), skip_special_tokens=True))
    assert (tmp_path / "out.txt").read_text().splitlines() == expected


@pytest.mark.parametrize("dim", [16, 15])
def test_sinusoidal_positions_equal_transformers_pegasus(dim):
    from uer.layers.embeddings import sinusoids, WordSinusoidalposEmbedding
    from transformers.models.pegasus.modeling_pegasus import PegasusSinusoidalPositionalEmbedding
    assert torch.equal(sinusoids(40, dim), PegasusSinusoidalPositionalEmbedding(40, dim).create_weight())
    emb = WordSinusoidalposEmbedding(Namespace(dropout=0.0, emb_size=dim, max_seq_length=40,
                                               remove_embedding_layernorm=True), 30)
    src = torch.tensor([[3, 4, 5, 6]])
    assert torch.equal(emb(src, None, start=0)[:, 2:], emb(src[:, 2:], None, start=2))
    assert torch.allclose(emb(src, None)[0] - emb.word_embedding(src)[0], sinusoids(4, dim), atol=1e-6)
