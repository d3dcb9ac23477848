"""The benchmark scripts' headline commands in their smoke mode (tiny sizes, a step or two), so that a command
the docs print cannot break unseen; the figures themselves come from full runs, never from tests. Scripts that
read the shared data (--data_dir) get a stand-in laid out as it is, made of the repository's samples."""
import json
import os
import shutil

import pytest

from conftest import ROOT, run_script


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """datasets/, corpora/ and models/ as the shared data folder has them, filled with the shipped samples."""
    d = tmp_path_factory.mktemp("data")
    copies = {"datasets/book_review": ["datasets/douban_book_review", "datasets/chnsenticorp"],
              "datasets/ner_sample": ["datasets/msra_ner"]}
    for source, targets in copies.items():
        for target in targets:
            (d / target).mkdir(parents=True)
            for name in os.listdir(os.path.join(ROOT, source)):
                with open(os.path.join(ROOT, source, name), encoding="utf-8") as f:
                    lines = f.readlines()
                (d / target / name).write_text("".join(lines[:201]), encoding="utf-8")  # header + 200 rows
    shutil.copy(d / "datasets/msra_ner/train.tsv", d / "datasets/msra_ner/train_small.tsv")
    (d / "datasets/cmrc2018").mkdir()
    for source, target, n in (("train", "train_small", 40), ("dev", "dev", 20)):
        with open(os.path.join(ROOT, f"datasets/cmrc_sample/{source}.json"), encoding="utf-8") as f:
            data = json.load(f)
        data["data"] = data["data"][:n]
        (d / f"datasets/cmrc2018/{target}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (d / "corpora").mkdir()
    for name, source in (("book_review.txt", "book_review.txt"), ("book_review_bert.txt", "book_review_bert.txt"),
                         ("chnsenticorp.txt", "book_review.txt"), ("CLUECorpusSmall_sampled.txt", "book_review.txt"),
                         ("CLUECorpusSmall_bert_sampled.txt", "book_review_bert.txt")):
        shutil.copy(os.path.join(ROOT, "corpora", source), d / "corpora" / name)
    pairs = [("The story is great.", "书中的故事非常精彩。"), ("Not recommended.", "不推荐购买。")] * 100
    (d / "corpora/news-commentary-v13-en-zh_sampled.txt").write_text("".join(f"{a}\t{b}\n" for a, b in pairs))
    (d / "models").mkdir()
    shutil.copy(os.path.join(ROOT, "models/reviews_vocab.txt"), d / "models/google_zh_vocab.txt")
    return str(d)


def test_pretrain_speed_runs_a_row_of_each_kind():
    """BERT (with its fused-norm side), the LLaMA row (a dict config) and an encoder-decoder."""
    proc = run_script("benchmarks/pretrain_speed.py", "--smoke", "--models", "tiny,llama,bart")
    rows = [line.split(" | ") for line in proc.stdout.splitlines() if line.startswith("| ") and "fp32" in line]
    assert [r[0][2:] for r in rows] == ["BERT-tiny", "BERT-tiny", "LLaMA-style 4x512", "BART-base"]
    assert all(r[5].isdigit() and int(r[5]) > 0 for r in rows), proc.stdout


@pytest.mark.parametrize("script,needs_data", [
    ("convert_memory.py", False), ("cv_stacking.py", True), ("finetune_accuracy.py", True),
    ("finetune_speed.py", True), ("fsdp_check.py", False), ("gradient_checkpointing.py", False),
    ("preprocess_speed.py", True), ("pretrain_gain.py", True), ("task_demos.py", False),
    ("text2text_check.py", True), ("topn_speed.py", True), ("decoder_proof.py", False), ("chat_speed.py", False)])
def test_benchmark_runs_in_smoke_mode(script, needs_data, request):
    if script == "chat_speed.py":
        pytest.importorskip("transformers")
    extra = ["--data_dir", request.getfixturevalue("data_dir")] if needs_data else []
    proc = run_script(f"benchmarks/{script}", "--smoke", *extra)
    assert "|---|" in proc.stdout, proc.stdout + proc.stderr
    assert "failed" not in proc.stdout and "nan" not in proc.stdout.lower(), proc.stdout


def test_every_benchmark_has_a_smoke_mode():
    tested = {"accelerator_check.py", "pretrain_speed.py"} | {  # accelerator_check: tests/test_accelerator.py
        s for s, _ in test_benchmark_runs_in_smoke_mode.pytestmark[0].args[1]}
    assert tested == {f for f in os.listdir(os.path.join(ROOT, "benchmarks")) if f.endswith(".py")}
