"""TencentPretrain's tokenizer names against transformers: --tokenizer bpe as GPT2Tokenizer, --tokenizer
xlmroberta as XLMRobertaTokenizer, on the shipped samples and on fuzzed text. Needs
`pip install -r requirements-interop.txt`; skipped without it."""
import importlib.util
import json
import random
import re
import shutil
from argparse import Namespace

import numpy as np
import pytest

from conftest import CORPUS, CORPUS_CLS, back_to_hf, perturbed_hf_model
from test_inventory import gpt2_files, spm_model
from uer.core.errors import UserInputError

transformers = pytest.importorskip("transformers")


def sample_texts(n_fuzz=300, seed=3):
    with open(CORPUS, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f][:200]
    with open(CORPUS_CLS, encoding="utf-8") as f:
        lines += [line.rstrip("\n").split("\t")[-1] for line in f][:100]
    rng = random.Random(seed)
    alphabet = "abcXYZ 0129,.!?'\"-_/\\\t\n这本书很好。，！😀é ñ  \u3000" + "".join(chr(rng.randrange(0x20, 0x3000))
                                                                             for _ in range(60))
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))) for _ in range(n_fuzz)]
    return lines + fuzz + ["isn't", "  two  spaces", "end with space ", "'s 're 've"]


def test_bpe_ids_are_gpt2_tokenizer_s(tmp_path):
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab_path, merges = gpt2_files(tmp_path / "gpt2")
    _, ours = load_vocab_and_tokenizer(Namespace(tokenizer="bpe", vocab_path=vocab_path, merges_path=merges),
                                       padding=False)
    theirs = transformers.GPT2Tokenizer.from_pretrained(str(tmp_path / "gpt2"))
    for text in sample_texts():
        assert ours.encode(text) == theirs.encode(text), repr(text)


def test_xlmroberta_ids_are_xlmroberta_tokenizer_s(tmp_path):
    from uer.text.tokenizers import load_vocab_and_tokenizer
    path = spm_model(tmp_path)
    vocab, ours = load_vocab_and_tokenizer(Namespace(tokenizer="xlmroberta", spm_model_path=path, vocab_path=None))
    (tmp_path / "hf").mkdir()
    shutil.copy(path, tmp_path / "hf" / "sentencepiece.bpe.model")
    theirs = transformers.XLMRobertaTokenizer.from_pretrained(str(tmp_path / "hf"))
    for text in sample_texts():
        assert ours.encode(text) == theirs.encode(text, add_special_tokens=False), repr(text)
    assert vocab.get("[MASK]") == theirs.mask_token_id and len(vocab) == len(theirs)


def to_meta_rows(w, heads):
    """HF's rotary halves back to Meta's adjacent pairs (the inverse of transformers' conversion permute)."""
    rows, cols = w.shape
    return w.view(heads, 2, rows // heads // 2, cols).transpose(1, 2).reshape(rows, cols)


def meta_checkpoint(hf, folder, shards=1):
    """Meta's consolidated files and params.json of a HF LlamaForCausalLM (split into model-parallel shards)."""
    import json
    import torch
    c = hf.config
    heads, kv = c.num_attention_heads, c.num_key_value_heads
    state = {"tok_embeddings.weight": hf.model.embed_tokens.weight, "norm.weight": hf.model.norm.weight,
             "output.weight": hf.lm_head.weight}
    for i, layer in enumerate(hf.model.layers):
        a, m = layer.self_attn, layer.mlp
        state.update({f"layers.{i}.attention.wq.weight": to_meta_rows(a.q_proj.weight, heads),
                      f"layers.{i}.attention.wk.weight": to_meta_rows(a.k_proj.weight, kv),
                      f"layers.{i}.attention.wv.weight": a.v_proj.weight,
                      f"layers.{i}.attention.wo.weight": a.o_proj.weight,
                      f"layers.{i}.feed_forward.w1.weight": m.gate_proj.weight,
                      f"layers.{i}.feed_forward.w3.weight": m.up_proj.weight,
                      f"layers.{i}.feed_forward.w2.weight": m.down_proj.weight,
                      f"layers.{i}.attention_norm.weight": layer.input_layernorm.weight,
                      f"layers.{i}.ffn_norm.weight": layer.post_attention_layernorm.weight})
    state = {k: v.detach().clone() for k, v in state.items()}
    folder.mkdir(parents=True, exist_ok=True)
    for s in range(shards):
        part = {}
        for k, v in state.items():
            kind = k.split(".")[-2]
            dim = 0 if kind in ("wq", "wk", "wv", "w1", "w3", "output") else \
                1 if kind in ("wo", "w2", "tok_embeddings") else None
            part[k] = v if dim is None else v.chunk(shards, dim)[s].clone()
        torch.save(part, folder / f"consolidated.{s:02d}.pth")
    (folder / "params.json").write_text(json.dumps({
        "dim": c.hidden_size, "n_layers": c.num_hidden_layers, "n_heads": heads, "n_kv_heads": kv,
        "vocab_size": c.vocab_size, "multiple_of": 32, "ffn_dim_multiplier": None, "norm_eps": c.rms_norm_eps,
        "rope_theta": 10000.0}))
    return state


@pytest.mark.parametrize("shards", [1, 2])
def test_meta_llama_checkpoints_convert_with_transformers_logits_and_back(tmp_path, shards):
    import torch
    from conftest import load_script
    from test_llama import VOCAB_SIZE, hf_model, uer_model
    hf = hf_model("llama", tmp_path / "hf", intermediate_size=192, hidden_size=64)  # Meta's rule: 2/3 x 4 x 64 -> 192
    original = meta_checkpoint(hf, tmp_path / "meta", shards)
    load_script("scripts/convert_llama_from_meta_to_uer.py").main([
        "--input_model_path", str(tmp_path / "meta"), "--output_model_path", str(tmp_path / "uer.bin")])
    ours = uer_model(tmp_path / "uer.bin", tmp_path / "uer.json")
    src = torch.randint(3, VOCAB_SIZE, (2, 30))
    with torch.no_grad():
        assert (ours.target.word_logits(ours.encode(src, torch.ones_like(src))) - hf(src).logits).abs().max() <= 1e-5
    load_script("scripts/convert_llama_from_uer_to_meta.py").main([
        "--input_model_path", str(tmp_path / "uer.bin"), "--config_path", str(tmp_path / "uer.json"),
        "--output_model_path", str(tmp_path / "back" / "consolidated.00.pth")])
    back = torch.load(tmp_path / "back" / "consolidated.00.pth")
    assert set(back) == set(original) and all(torch.equal(back[k], original[k]) for k in original)
    import json
    params = json.loads((tmp_path / "back" / "params.json").read_text())
    from uer.interop.convert_meta_llama import feedforward_size
    assert feedforward_size(params) == 192 and params["n_kv_heads"] == 2


def converted(script, folder):
    """The UER model the HuggingFace -> UER `script` makes of folder/hf (written to folder/uer.bin, uer.json)."""
    from conftest import load_script
    from test_llama import uer_model
    load_script(script).main(["--input_model_path", str(folder / "hf"), "--output_model_path",
                              str(folder / "uer.bin")])
    return uer_model(folder / "uer.bin", folder / "uer.json")


def assert_computes_and_generates_as(ours, hf):
    """Logits within 1e-5 of transformers' and greedy generation (12 tokens, stopping at id 2) equal to its."""
    import torch
    from test_llama import VOCAB_SIZE
    from uer.generation.decoder_only import generate
    src = torch.randint(3, VOCAB_SIZE, (2, 25))
    with torch.no_grad():
        assert (ours.target.word_logits(ours.encode(src, torch.ones_like(src))) - hf(src).logits).abs().max() <= 1e-5
        prompt = src[0, :9].tolist()
        theirs = hf.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False, eos_token_id=2,
                             pad_token_id=0)[0, 9:].tolist()
    assert generate(ours, "cpu", [prompt], 12, {2})[0] == (theirs[:theirs.index(2)] if 2 in theirs else theirs)


def test_qwen3_converts_with_its_query_key_norms_and_generates_as_transformers(tmp_path):
    from test_llama import VOCAB_SIZE
    config = transformers.Qwen3Config(vocab_size=VOCAB_SIZE, hidden_size=64, intermediate_size=96,
                                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                                      max_position_embeddings=128, rms_norm_eps=1e-6, tie_word_embeddings=True,
                                      bos_token_id=1, eos_token_id=2)
    hf = perturbed_hf_model(transformers.Qwen3ForCausalLM, config, tmp_path / "hf")
    ours = converted("scripts/convert_llama_from_huggingface_to_uer.py", tmp_path)
    uer_config = json.loads((tmp_path / "uer.json").read_text())
    assert uer_config["qk_norm"] is True and uer_config["attention_head_size"] == 32
    assert_computes_and_generates_as(ours, hf)
    back = back_to_hf("scripts/convert_llama_from_uer_to_huggingface.py", tmp_path, hf,
                      loader=transformers.AutoModelForCausalLM)
    assert type(back).__name__ == "Qwen3ForCausalLM"


def test_gemma_converts_with_its_norms_gelu_and_scaled_embeddings_and_generates_as_transformers(tmp_path):
    from test_llama import VOCAB_SIZE
    config = transformers.GemmaConfig(vocab_size=VOCAB_SIZE, hidden_size=64, intermediate_size=96,
                                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, head_dim=32,
                                      max_position_embeddings=128, rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2,
                                      pad_token_id=0)
    hf = perturbed_hf_model(transformers.GemmaForCausalLM, config, tmp_path / "hf")
    ours = converted("scripts/convert_llama_from_huggingface_to_uer.py", tmp_path)
    uer_config = json.loads((tmp_path / "uer.json").read_text())
    assert uer_config["layernorm"] == "gemma" and uer_config["hidden_act"] == "gelu_fast"
    assert uer_config["embedding_scale"] == 8.0 and uer_config["tie_weights"] is True
    assert_computes_and_generates_as(ours, hf)
    back = back_to_hf("scripts/convert_llama_from_uer_to_huggingface.py", tmp_path, hf,
                      loader=transformers.AutoModelForCausalLM)
    assert type(back).__name__ == "GemmaForCausalLM"


@pytest.mark.parametrize("kind,model_name", [("text_classification", "BertForSequenceClassification"),
                                             ("token_classification", "BertForTokenClassification"),
                                             ("extractive_qa", "BertForQuestionAnswering")])
def test_bert_heads_go_both_ways_with_transformers_outputs(tmp_path, kind, model_name):
    """A HF BERT with a fine-tuned head converted to the model of run_classifier.py / run_ner.py / run_cmrc.py
    gives its outputs (and so its predictions) on the shipped samples; converted back, it is the same model."""
    import torch
    from conftest import VOCAB, load_script
    from uer.models.classifier import Classifier, SpanReader
    from uer.models.tagger import Tagger
    from uer.model_loader import load_model
    from uer.opts import MODEL_DEFAULTS, load_config
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(Namespace(vocab_path=VOCAB, spm_model_path=None, tokenizer="bert"))
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=64, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=128, max_position_embeddings=128,
                                     num_labels={"token_classification": 5, "extractive_qa": 2}.get(kind, 3))
    hf = perturbed_hf_model(getattr(transformers, model_name), config, tmp_path / "hf")
    load_script(f"scripts/convert_bert_{kind}_from_huggingface_to_uer.py").main([
        "--input_model_path", str(tmp_path / "hf"), "--output_model_path", str(tmp_path / "uer.bin")])
    args = Namespace(**dict(MODEL_DEFAULTS, **dict(load_config(str(tmp_path / "uer.json")), embedding="bert",
                            encoder="bert", pooling="first", labels_num=config.num_labels, crf_target=False,
                            factorized_embedding_parameterization=False, parameter_sharing=False,
                            bidirectional=False, dropout=0.0)))
    model = {"text_classification": Classifier, "token_classification": Tagger,
             "extractive_qa": SpanReader}[kind](args, len(vocab), vocab).eval()
    report = load_model(model, str(tmp_path / "uer.bin"))
    assert not report["missing"] and not report["unexpected"], report
    texts = sample_texts(n_fuzz=0)[:40]
    ids = [[vocab.get("[CLS]")] + tokenizer.encode(t)[:30] + [vocab.get("[SEP]")] for t in texts]
    for row in ids:
        src = torch.tensor([row])
        with torch.no_grad():
            ours = model(src, torch.ones_like(src))
            out = hf(input_ids=src, token_type_ids=torch.zeros_like(src))
        theirs = out.logits if kind != "extractive_qa" else torch.stack([out.start_logits, out.end_logits], -1)
        assert (ours - theirs).abs().max() <= 1e-5
    back_to_hf(f"scripts/convert_bert_{kind}_from_uer_to_huggingface.py", tmp_path, hf)


@pytest.mark.parametrize("type_vocab_size", [1, 2])
def test_xlmroberta_converts_with_transformers_logits_and_back(tmp_path, type_vocab_size):
    import torch
    from conftest import load_script
    from uer.model_builder import build_model
    from uer.model_loader import load_model
    from uer.opts import MODEL_DEFAULTS, load_config
    config = transformers.XLMRobertaConfig(vocab_size=300, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                           intermediate_size=128, max_position_embeddings=66,
                                           type_vocab_size=type_vocab_size)
    hf = perturbed_hf_model(transformers.XLMRobertaForMaskedLM, config, tmp_path / "hf")
    load_script("scripts/convert_xlmroberta_from_huggingface_to_uer.py").main([
        "--input_model_path", str(tmp_path / "hf"), "--output_model_path", str(tmp_path / "uer.bin")])
    uer_config = load_config(str(tmp_path / "uer.json"))
    assert uer_config["position_offset"] == 2 and uer_config["max_seq_length"] == 64
    args = Namespace(**dict(MODEL_DEFAULTS, **dict(uer_config, embedding="bert", encoder="transformer",
                                                    mask="fully_visible", target="mlm", tie_weights=False,
                                                    factorized_embedding_parameterization=False,
                                                    parameter_sharing=False, bidirectional=False)))
    ours = build_model(args, 300).eval()
    report = load_model(ours, str(tmp_path / "uer.bin"))
    assert not report["missing"] and not report["unexpected"], report
    src = torch.randint(3, 300, (2, 40))
    src[1, 30:] = 1  # XLM-R's padding id: positions stop counting there, as seg 0 does here
    seg = (src != 1).long()
    with torch.no_grad():
        mine = ours.target.word_logits(ours.encode(src, seg))
        theirs = hf(input_ids=src, attention_mask=seg).logits
    assert (mine - theirs)[seg > 0].abs().max() <= 1e-5
    back_to_hf("scripts/convert_xlmroberta_from_uer_to_huggingface.py", tmp_path, hf)


def test_bloom_converts_with_alibi_and_generates_as_transformers(tmp_path):
    from test_llama import VOCAB_SIZE
    config = transformers.BloomConfig(vocab_size=VOCAB_SIZE, hidden_size=64, n_layer=2, n_head=4, bos_token_id=1,
                                      eos_token_id=2, pad_token_id=0)
    hf = perturbed_hf_model(transformers.BloomForCausalLM, config, tmp_path / "hf")
    ours = converted("scripts/convert_bloom_from_huggingface_to_uer.py", tmp_path)
    assert_computes_and_generates_as(ours, hf)
    back_to_hf("scripts/convert_bloom_from_uer_to_huggingface.py", tmp_path, hf)


def test_albert_converts_with_transformers_mlm_and_sop_logits_and_back(tmp_path):
    import torch
    from conftest import load_script
    from uer.opts import load_config
    hf, _ = google_albert()
    config = hf.config.to_dict()
    assert config["hidden_act"] == "gelu_new"
    hf.save_pretrained(tmp_path / "hf")
    load_script("scripts/convert_albert_from_huggingface_to_uer.py").main([
        "--input_model_path", str(tmp_path / "hf"), "--output_model_path", str(tmp_path / "uer.bin")])
    state = torch.load(str(tmp_path / "uer.bin"), weights_only=True)
    assert_albert_logits_equal(uer_albert(load_config(str(tmp_path / "uer.json")), state), hf)
    back_to_hf("scripts/convert_albert_from_uer_to_huggingface.py", tmp_path, hf)


# Google's ALBERT variables (google-research/albert modeling.py and run_pretraining.py), written out by hand:
# Google name, HuggingFace AlbertForPreTraining name, T where Google stores the transposed kernel; L and H stand
# for the one shared layer's scope in each
GOOGLE_ALBERT_TABLE = """
bert/embeddings/word_embeddings                  albert.embeddings.word_embeddings.weight
bert/embeddings/position_embeddings              albert.embeddings.position_embeddings.weight
bert/embeddings/token_type_embeddings            albert.embeddings.token_type_embeddings.weight
bert/embeddings/LayerNorm/gamma                  albert.embeddings.LayerNorm.weight
bert/embeddings/LayerNorm/beta                   albert.embeddings.LayerNorm.bias
bert/encoder/embedding_hidden_mapping_in/kernel  albert.encoder.embedding_hidden_mapping_in.weight  T
bert/encoder/embedding_hidden_mapping_in/bias    albert.encoder.embedding_hidden_mapping_in.bias
L/attention_1/self/query/kernel                  H.attention.query.weight                           T
L/attention_1/self/query/bias                    H.attention.query.bias
L/attention_1/self/key/kernel                    H.attention.key.weight                             T
L/attention_1/self/key/bias                      H.attention.key.bias
L/attention_1/self/value/kernel                  H.attention.value.weight                           T
L/attention_1/self/value/bias                    H.attention.value.bias
L/attention_1/output/dense/kernel                H.attention.dense.weight                           T
L/attention_1/output/dense/bias                  H.attention.dense.bias
L/LayerNorm/gamma                                H.attention.LayerNorm.weight
L/LayerNorm/beta                                 H.attention.LayerNorm.bias
L/ffn_1/intermediate/dense/kernel                H.ffn.weight                                       T
L/ffn_1/intermediate/dense/bias                  H.ffn.bias
L/ffn_1/intermediate/output/dense/kernel         H.ffn_output.weight                                T
L/ffn_1/intermediate/output/dense/bias           H.ffn_output.bias
L/LayerNorm_1/gamma                              H.full_layer_layer_norm.weight
L/LayerNorm_1/beta                               H.full_layer_layer_norm.bias
bert/pooler/dense/kernel                         albert.pooler.weight                               T
bert/pooler/dense/bias                           albert.pooler.bias
cls/predictions/transform/dense/kernel           predictions.dense.weight                           T
cls/predictions/transform/dense/bias             predictions.dense.bias
cls/predictions/transform/LayerNorm/gamma        predictions.LayerNorm.weight
cls/predictions/transform/LayerNorm/beta         predictions.LayerNorm.bias
cls/predictions/output_bias                      predictions.bias
cls/seq_relationship/output_weights              sop_classifier.classifier.weight
cls/seq_relationship/output_bias                 sop_classifier.classifier.bias
"""
GOOGLE_ALBERT = [(re.sub("^L/", "bert/encoder/transformer/group_0/inner_group_0/", row[0]),
                  re.sub(r"^H\.", "albert.encoder.albert_layer_groups.0.albert_layers.0.", row[1]), len(row) == 3)
                 for row in map(str.split, GOOGLE_ALBERT_TABLE.strip().splitlines())]
# google-research/albert's config/base/albert_config.json, sizes shrunk
GOOGLE_ALBERT_CONFIG = {"attention_probs_dropout_prob": 0, "hidden_act": "gelu", "hidden_dropout_prob": 0,
                        "embedding_size": 16, "hidden_size": 64, "initializer_range": 0.02, "intermediate_size": 128,
                        "max_position_embeddings": 64, "num_attention_heads": 4, "num_hidden_layers": 3,
                        "num_hidden_groups": 1, "net_structure_type": 0, "gap_size": 0, "num_memory_blocks": 0,
                        "inner_group_num": 1, "down_scale_factor": 1, "type_vocab_size": 2, "vocab_size": 300}


def google_albert():
    """(AlbertForPreTraining computing what Google's code computes with GOOGLE_ALBERT_CONFIG, its variables under
    Google's names, two of the optimizer's among them)."""
    sizes = {k: v for k, v in GOOGLE_ALBERT_CONFIG.items() if k not in ("net_structure_type", "gap_size",
                                                                        "num_memory_blocks", "down_scale_factor")}
    hf = perturbed_hf_model(transformers.AlbertForPreTraining,
                            transformers.AlbertConfig(**dict(sizes, hidden_act="gelu_new")))
    weights = hf.state_dict()
    arrays = {google: (weights[name].t() if transpose else weights[name]).contiguous().numpy()
              for google, name, transpose in GOOGLE_ALBERT}
    arrays.update({"global_step": np.array(7), "bert/pooler/dense/kernel/adam_m": arrays["bert/pooler/dense/kernel"]})
    return hf, arrays


def assert_albert_logits_equal(ours, hf):
    import torch
    src = torch.randint(3, 300, (2, 30))
    seg = torch.ones_like(src)
    seg[:, 15:] = 2
    with torch.no_grad():
        hidden = ours.encode(src, seg)
        out = hf(input_ids=src, token_type_ids=seg - 1)
        assert (ours.target.word_logits(hidden) - out.prediction_logits).abs().max() <= 1e-5
        assert (ours.target.sentence_logits(hidden) - out.sop_logits).abs().max() <= 1e-5


def uer_albert(config, state):
    from uer.model_builder import build_model
    from uer.opts import MODEL_DEFAULTS
    ours = build_model(Namespace(**dict(MODEL_DEFAULTS, **dict(config, bidirectional=False))), 300).eval()
    missing, unexpected = ours.load_state_dict(state, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    return ours


def test_google_albert_variables_convert_with_transformers_logits():
    from uer.interop import convert_google_albert
    hf, arrays = google_albert()
    config = convert_google_albert.config_to_uer(GOOGLE_ALBERT_CONFIG, "albert_config.json")
    assert config["hidden_act"] == config["mlm_hidden_act"] == "gelu_new" and config["layers_num"] == 3
    assert_albert_logits_equal(uer_albert(config, convert_google_albert.to_uer(arrays.items())), hf)
    with pytest.raises(UserInputError, match="net_structure_type 1 is not built here"):
        convert_google_albert.config_to_uer(dict(GOOGLE_ALBERT_CONFIG, net_structure_type=1), "albert_config.json")
    with pytest.raises(UserInputError, match="group_1/inner_group_0/LayerNorm/gamma has no place"):
        convert_google_albert.to_uer([("bert/encoder/transformer/group_1/inner_group_0/LayerNorm/gamma", np.ones(4))])


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow (pip install tensorflow-cpu)")
def test_google_albert_checkpoint_converts_with_the_scripts_and_back(tmp_path):
    import torch
    from conftest import load_script
    from uer.interop.convert_google import write_checkpoint
    from uer.opts import load_config
    hf, arrays = google_albert()
    (tmp_path / "google").mkdir()
    write_checkpoint({f"module/{k}": v for k, v in arrays.items()}.items(), str(tmp_path / "google" / "model.ckpt"))
    (tmp_path / "google" / "albert_config.json").write_text(json.dumps(GOOGLE_ALBERT_CONFIG))
    load_script("scripts/convert_albert_from_google_to_uer.py").main([
        "--input_model_path", str(tmp_path / "google" / "model.ckpt"), "--output_model_path", str(tmp_path / "uer.bin")])
    state = torch.load(str(tmp_path / "uer.bin"), weights_only=True)
    assert_albert_logits_equal(uer_albert(load_config(str(tmp_path / "uer.json")), state), hf)
    state["embedding.segment_embedding.weight"][0] = torch.randn(16)  # the padding row Google has no place for
    torch.save(state, str(tmp_path / "uer.bin"))
    load_script("scripts/convert_albert_from_uer_to_google.py").main([
        "--input_model_path", str(tmp_path / "uer.bin"), "--config_path", str(tmp_path / "uer.json"),
        "--output_model_path", str(tmp_path / "back" / "model.ckpt")])
    written = json.loads((tmp_path / "back" / "albert_config.json").read_text())
    assert written == {k: v for k, v in GOOGLE_ALBERT_CONFIG.items() if k != "gap_size"}
    load_script("scripts/convert_albert_from_google_to_uer.py").main([
        "--input_model_path", str(tmp_path / "back" / "model.ckpt"), "--output_model_path", str(tmp_path / "again.bin")])
    again = torch.load(str(tmp_path / "again.bin"), weights_only=True)
    assert again.keys() == state.keys() and all(torch.equal(again[k], state[k]) for k in state)
