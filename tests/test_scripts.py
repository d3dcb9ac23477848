"""scripts/: model tools, vocabulary tools, probing and generation, each run as a user runs it."""

import pytest
import torch

from conftest import VOCAB, load_script, model_args, run_script
from uer.model_builder import build_model
from uer.model_saver import save_model

SENTENCE = "我觉得这本书非常精彩，推荐给大家。"
TINY = '{"emb_size": 64, "hidden_size": 64, "feedforward_size": 128, "heads_num": 4, "layers_num": 2, ' \
       '"dropout": 0.0, "max_seq_length": 128}'


@pytest.fixture(scope="module")
def memorised(tmp_path_factory):
    """A tiny MLM and a tiny GPT trained on one sentence repeated: they know it by heart."""
    out = tmp_path_factory.mktemp("memorised")
    corpus = out / "corpus.txt"
    corpus.write_text((SENTENCE + "\n") * 200, encoding="utf-8")
    config = out / "tiny.json"
    config.write_text(TINY)
    models = {}
    for target, encoder, extra in (("mlm", "bert", ["--dynamic_masking"]), ("lm", "gpt", [])):
        dataset = str(out / f"{target}.pt")
        # in this process: the models are what is tested here, not how the scripts run
        load_script("preprocess.py").main(["--corpus_path", str(corpus), "--vocab_path", VOCAB, "--dataset_path",
                                           dataset, "--target", target, "--seq_length", "32", *extra])
        model = str(out / f"{target}.bin")
        assert not load_script("pretrain.py").main([
            "--dataset_path", dataset, "--vocab_path", VOCAB, "--output_model_path", model, "--config_path",
            str(config), "--encoder", encoder, "--target", target, "--total_steps", "150", "--report_steps", "50",
            "--batch_size", "16", "--learning_rate", "2e-3"])
        models[target] = model + "-150"
    models["config"] = str(config)
    return models


def test_cloze_test_ranks_the_memorised_word_first(memorised, tmp_path):
    inputs = tmp_path / "cloze.txt"
    inputs.write_text(SENTENCE + "\n" + SENTENCE + "\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    run_script("scripts/cloze_test.py", "--input_path", str(inputs), "--output_path", str(out),
               "--pretrained_model_path", memorised["mlm"], "--vocab_path", VOCAB, "--config_path",
               memorised["config"], "--target", "mlm", "--topn", "5", "--seed", "3")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    for line in lines:
        masked, truth, top = line.split("\t")
        assert "[MASK]" in masked and top.split(" ")[0] == truth and len(top.split(" ")) == 5


def test_generate_continues_the_memorised_sentence(memorised, tmp_path):
    beginning = tmp_path / "beginning.txt"
    beginning.write_text(SENTENCE[:5], encoding="utf-8")
    out = tmp_path / "full.txt"
    common = ["--input_path", str(beginning), "--pretrained_model_path", memorised["lm"], "--vocab_path", VOCAB,
              "--config_path", memorised["config"], "--encoder", "gpt", "--seq_length", "40"]
    run_script("scripts/generate.py", *common, "--output_path", str(out))
    assert out.read_text(encoding="utf-8").startswith(SENTENCE)
    samples = []
    for _ in range(2):
        run_script("scripts/generate.py", *common, "--output_path", str(out), "--top_k", "5", "--top_p", "0.9",
                   "--temperature", "1.5", "--seed", "11")
        samples.append(out.read_text(encoding="utf-8"))
    assert samples[0] == samples[1] and samples[0].startswith(SENTENCE[:5]), "sampling is seeded"


@pytest.mark.parametrize("text,extra,message", [
    ("", [], "beginning.txt: empty"),
    (SENTENCE, ["--seq_length", "4"], "not fewer than --seq_length 4"),
    (SENTENCE, ["--seq_length", "4", "--max_new_tokens", "2"], "not fewer than --seq_length 4"),
    (SENTENCE[:3], ["--seq_length", "8", "--max_new_tokens", "6"], "passes --seq_length 8")])
def test_generate_refuses_what_it_cannot_do(memorised, tmp_path, text, extra, message):
    beginning = tmp_path / "beginning.txt"
    beginning.write_text(text, encoding="utf-8")
    proc = run_script("scripts/generate.py", "--input_path", str(beginning), "--pretrained_model_path",
                      memorised["lm"], "--vocab_path", VOCAB, "--config_path", memorised["config"], "--encoder", "gpt",
                      "--output_path", str(tmp_path / "out.txt"), *extra, check=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out.txt").exists()


def test_top_k_and_top_p_filters():
    from uer.generation.search import next_token
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    g = torch.Generator().manual_seed(0)
    assert next_token(logits, 1, 1.0, 1.0, g) == 0
    assert {next_token(logits, 2, 1.0, 1.0, g) for _ in range(200)} == {0, 1}
    assert {next_token(logits, 0, 0.7, 1.0, g) for _ in range(200)} == {0, 1}, "0.5 + 0.3 reach 0.7"
    assert {next_token(logits, 0, 0.5, 1.0, g) for _ in range(50)} == {0}


def tiny_checkpoint(path, seed):
    torch.manual_seed(seed)
    model = build_model(model_args({"emb_size": 16, "hidden_size": 16, "feedforward_size": 32, "heads_num": 2,
                                    "layers_num": 1}, "bert", "mlm"), 676)
    save_model(model, str(path))
    return torch.load(str(path), weights_only=True)


def test_average_model_is_the_mean(tmp_path):
    a, b = tiny_checkpoint(tmp_path / "a.bin", 0), tiny_checkpoint(tmp_path / "b.bin", 1)
    run_script("scripts/average_model.py", "--model_list_path", str(tmp_path / "a.bin"), str(tmp_path / "b.bin"),
               "--output_model_path", str(tmp_path / "avg.bin"))
    avg = torch.load(str(tmp_path / "avg.bin"), weights_only=True)
    assert avg.keys() == a.keys()
    for key in a:
        assert torch.allclose(avg[key], (a[key] + b[key]) / 2, atol=1e-7), key


def test_average_model_refuses_two_layouts(tmp_path):
    a = tiny_checkpoint(tmp_path / "a.bin", 0)
    torch.save({k.replace("embedding.word_embedding.", "embedding.word.embedding."): v for k, v in a.items()},
               tmp_path / "b.bin")
    proc = run_script("scripts/average_model.py", "--model_list_path", str(tmp_path / "a.bin"), str(tmp_path / "b.bin"),
                      "--output_model_path", str(tmp_path / "avg.bin"), check=False)
    assert proc.returncode == 2 and "b.bin is in the tencentpretrain key layout" in proc.stderr
    assert "convert_model_layout.py" in proc.stderr and not (tmp_path / "avg.bin").exists()


def test_check_model_lists_keys_and_fit(tmp_path):
    tiny_checkpoint(tmp_path / "a.bin", 0)
    config = tmp_path / "c.json"
    config.write_text('{"emb_size": 16, "hidden_size": 16, "feedforward_size": 32, "heads_num": 2, "layers_num": 1}')
    proc = run_script("scripts/check_model.py", "--load_model_path", str(tmp_path / "a.bin"))
    assert "embedding.word_embedding.weight\t[676, 16]" in proc.stdout and " parameters" in proc.stdout
    proc = run_script("scripts/check_model.py", "--load_model_path", str(tmp_path / "a.bin"), "--config_path",
                      str(config), "--target", "mlm")
    assert "loads into --config_path" in proc.stdout and "exactly" in proc.stdout
    config.write_text('{"emb_size": 16, "hidden_size": 16, "feedforward_size": 48, "heads_num": 2, "layers_num": 1}')
    proc = run_script("scripts/check_model.py", "--load_model_path", str(tmp_path / "a.bin"), "--config_path",
                      str(config), "--target", "mlm", check=False)
    assert proc.returncode == 2 and "feed_forward.linear_1.weight (file (32, 16), model (48, 16))" in proc.stderr


def test_build_vocab_and_diff_vocab(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("aab\nbbc\n\nb d\n", encoding="utf-8")
    outs = []
    for n in ("1", "2"):
        out = tmp_path / f"vocab{n}.txt"
        run_script("scripts/build_vocab.py", "--corpus_path", str(corpus), "--output_path", str(out),
                   "--processes_num", n, "--min_count", "1")
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1] == "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nb\na\nc\nd\n"
    run_script("scripts/build_vocab.py", "--corpus_path", str(corpus), "--output_path", str(tmp_path / "v.txt"),
               "--min_count", "2", "--max_size", "6")
    assert (tmp_path / "v.txt").read_text(encoding="utf-8").split() == ["[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                                                         "[MASK]", "b"]
    proc = run_script("scripts/diff_vocab.py", "--vocab_1_path", str(tmp_path / "vocab1.txt"), "--vocab_2_path",
                      str(tmp_path / "v.txt"))
    assert "shared 6" in proc.stdout and "only in " + str(tmp_path / "vocab1.txt") + ": 3: a c d" in proc.stdout


def test_dynamic_vocab_adapter_keeps_shared_rows(tmp_path):
    old = tiny_checkpoint(tmp_path / "a.bin", 0)
    words = open(VOCAB, encoding="utf-8").read().splitlines()
    new_vocab = tmp_path / "new.txt"
    new_words = words[:5] + ["新词一", words[300], "新词二", words[100]]
    new_vocab.write_text("\n".join(new_words) + "\n", encoding="utf-8")
    run_script("scripts/dynamic_vocab_adapter.py", "--old_model_path", str(tmp_path / "a.bin"), "--old_vocab_path",
               VOCAB, "--new_vocab_path", str(new_vocab), "--new_model_path", str(tmp_path / "new.bin"))
    new = torch.load(str(tmp_path / "new.bin"), weights_only=True)
    for key in ("embedding.word_embedding.weight", "target.mlm_linear_2.weight", "target.mlm_linear_2.bias"):
        assert new[key].shape[0] == 9
        assert torch.equal(new[key][[0, 1, 2, 3, 4, 6, 8]], old[key][[0, 1, 2, 3, 4, 300, 100]]), key
    assert new["embedding.word_embedding.weight"][5].abs().sum() > 0 and torch.equal(
        new["encoder.transformer.0.layer_norm_1.gamma"], old["encoder.transformer.0.layer_norm_1.gamma"])


def test_extract_embedding_and_nearest_words(tmp_path):
    state = tiny_checkpoint(tmp_path / "a.bin", 0)
    words = open(VOCAB, encoding="utf-8").read().splitlines()
    state["embedding.word_embedding.weight"][200] = state["embedding.word_embedding.weight"][100] * 3 + 1e-4
    torch.save(state, str(tmp_path / "a.bin"))
    out = tmp_path / "emb.txt"
    run_script("scripts/extract_embedding.py", "--pretrained_model_path", str(tmp_path / "a.bin"), "--vocab_path",
               VOCAB, "--output_word_embedding_path", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "676 16" and lines[101].split(" ")[0] == words[100]
    assert [float(x) for x in lines[101].split(" ")[1:]] == pytest.approx(
        state["embedding.word_embedding.weight"][100].tolist(), rel=1e-5)
    targets = tmp_path / "targets.txt"
    targets.write_text(words[100] + "\n", encoding="utf-8")
    proc = run_script("scripts/topn_words_indep.py", "--pretrained_model_path", str(tmp_path / "a.bin"),
                      "--vocab_path", VOCAB, "--cand_vocab_path", VOCAB, "--target_words_path", str(targets),
                      "--topn", "3")
    assert proc.stdout.startswith(f"{words[100]}: {words[200]} 1.0000")


def test_extract_feature_and_context_dependent_neighbours(memorised, tmp_path):
    inputs = tmp_path / "in.txt"
    inputs.write_text(SENTENCE + "\n书\n", encoding="utf-8")
    out = tmp_path / "features.pt"
    common = ["--pretrained_model_path", memorised["mlm"], "--vocab_path", VOCAB, "--config_path",
              memorised["config"]]
    run_script("scripts/extract_feature.py", "--input_path", str(inputs), "--output_path", str(out), *common,
               "--unpadded")
    unpadded = torch.load(str(out), weights_only=True)
    assert [tuple(f.shape) for f in unpadded] == [(len(SENTENCE) + 2, 64), (3, 64)]
    run_script("scripts/extract_feature.py", "--input_path", str(inputs), "--output_path", str(out), *common,
               "--seq_length", "40")
    padded = torch.load(str(out), weights_only=True)  # UER-py's layout: one tensor, every line padded
    assert isinstance(padded, torch.Tensor) and tuple(padded.shape) == (2, 40, 64)
    for row, line in zip(padded, unpadded):  # padding is masked out of attention: real positions are the same
        torch.testing.assert_close(row[:len(line)], line, atol=1e-5, rtol=1e-5)
    assert padded[1, 3:].abs().sum() > 0  # the model's output at padding, as UER-py computed it
    sentences = tmp_path / "sent.txt"
    sentences.write_text(f"{SENTENCE}\t书\n", encoding="utf-8")
    proc = run_script("scripts/topn_words_dep.py", *common, "--cand_vocab_path", VOCAB, "--sent_path",
                      str(sentences), "--topn", "4", "--batch_size", "128")
    line = proc.stdout.strip()
    assert line.startswith(f"书 ({SENTENCE}): ") and len(line.split(": ", 1)[1].split(", ")) == 4


def test_context_dependent_neighbours_show_progress(memorised, tmp_path, monkeypatch, capsys):
    """Every candidate is a forward pass in context (21128 of them with Google's vocabulary): a bar counts them."""
    import functools
    from uer.monitor import progress as progress_module
    monkeypatch.setattr(progress_module, "progress", functools.partial(progress_module.progress, plain_delay=0))
    script = load_script("scripts/topn_words_dep.py")
    sentences = tmp_path / "sent.txt"
    sentences.write_text(f"{SENTENCE}\t书\n{SENTENCE}\t猫\n{SENTENCE}\t书\n", encoding="utf-8")
    script.main(["--pretrained_model_path", memorised["mlm"], "--vocab_path", VOCAB, "--config_path",
                 memorised["config"], "--cand_vocab_path", VOCAB, "--sent_path", str(sentences), "--topn", "3",
                 "--batch_size", "100"])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3 and lines[0] == lines[2] and lines[1] == "猫: not a single token of its sentence (line 2)"
    with open(VOCAB, encoding="utf-8") as f:
        total = 2 * (len(set(f.read().splitlines())) + 1)
    last = err.splitlines()[-1]
    from tqdm import tqdm
    assert last.startswith(f"sentences with each candidate: 100% {tqdm.format_sizeof(total)}/"), err


@pytest.mark.parametrize("encoder, positioning", [("gpt", "post"), ("gpt", "pre"), ("lstm", "post")])
def test_incremental_decoding_equals_reencoding(encoder, positioning):
    from uer.generation.decoder_only import Decoder
    torch.manual_seed(0)
    args = model_args({"emb_size": 32, "hidden_size": 32, "feedforward_size": 64, "heads_num": 4, "layers_num": 2,
                       "dropout": 0.0, "layernorm_positioning": positioning}, encoder, "lm",
                      embedding="bert" if encoder == "gpt" else "word")
    model = build_model(args, 100).eval()
    for p in model.parameters():
        p.data.normal_(0, 0.2)
    decoder = Decoder(model, "cpu")
    assert (decoder.cache is not None) == (encoder == "gpt")
    ids = [2, 17, 33, 41]
    with torch.no_grad():
        for token in [5, 66, 7, 91, 12]:
            step = decoder(ids)
            src = torch.tensor([ids])
            full = model.encode(src, torch.ones_like(src))[0, -1]
            assert torch.allclose(step, full, atol=1e-5)
            ids.append(token)


def test_every_conversion_family_offers_both_directions_and_every_script_names_its_family():
    """A family is a module with the same four functions and one registry line; each convert_*_from_*_to_*.py
    is a shim over the one driver, naming its families and direction."""
    import glob
    import os
    from uer.interop.families import str2family
    for name, family in str2family.items():
        for function in ("to_uer", "from_uer", "config_to_uer", "config_from_uer"):
            assert callable(getattr(family.module, function)), (name, function)
    named = set()
    for path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.dirname(__file__)), "scripts", "convert_*.py"))):
        main = load_script(os.path.relpath(path, os.path.dirname(os.path.dirname(__file__)))).main
        if hasattr(main, "names"):
            named.update(main.names)
            assert main.to_uer == ("_to_uer" in path), path
    assert named == set(str2family)
