"""What a person watching a run sees: the metrics file, TensorBoard event files, progress lines, curve plots."""
import functools
import io
import json
import os
import re
import struct
import sys

import pytest

import preprocess
from conftest import ROOT, VOCAB, TINY, run_script
from uer.data import preprocessing
from uer.core.errors import UserInputError
from uer.monitor.metrics import MetricsLog, read_metrics, summary_writer_class
from uer.monitor.progress import PlainLines, progress

CLS_DATA = os.path.join(ROOT, "datasets", "book_review")


def events(log_dir):
    """{tag: [(step, value)]} read back with TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def pretrain(dataset, out, *extra):
    return run_script("pretrain.py", "--dataset_path", dataset, "--vocab_path", VOCAB, "--output_model_path", out,
                      "--config_path", TINY, "--batch_size", "8", "--learning_rate", "1e-3", *extra)


def printed(stdout, key):
    return [float(v) for v in re.findall(rf"\| {key}\s+([0-9.]+)", stdout)]


def test_pretraining_writes_tensorboard_and_metrics_file(datasets, tmp_path):
    out = str(tmp_path / "m.bin")
    proc = pretrain(datasets["bert"], out, "--total_steps", "6", "--report_steps", "2",
                    "--tensorboard_dir", str(tmp_path / "tb"))
    tags = events(tmp_path / "tb")
    for part in ("mlm", "nsp"):
        for figure in ("loss", "acc"):
            assert [s for s, _ in tags[f"train/{figure}_{part}"]] == [2, 4, 6]
    for tag in ("train/loss", "train/lr", "train/tokens_per_s", "train/real_tokens_per_s"):
        assert [s for s, _ in tags[tag]] == [2, 4, 6], tag
    assert "train/loss_scale" not in tags  # no gradient scaler without --fp16 on a GPU
    records = read_metrics(out + ".metrics.jsonl")
    assert [(r["split"], r["step"]) for r in records] == [("train", 2), ("train", 4), ("train", 6)]
    assert [round(r["loss_mlm"], 3) for r in records] == printed(proc.stdout, "loss_mlm")
    assert [round(r["acc_nsp"], 3) for r in records] == printed(proc.stdout, "acc_nsp")
    assert [v for _, v in tags["train/loss_mlm"]] == pytest.approx([r["loss_mlm"] for r in records], rel=1e-6)
    assert all(r["time"] > 1.7e9 for r in records)


def test_resumed_pretraining_appends_without_repeating_steps(datasets, tmp_path):
    out = str(tmp_path / "m.bin")
    common = ["--report_steps", "1", "--save_checkpoint_steps", "2", "--tensorboard_dir", str(tmp_path / "tb")]
    pretrain(datasets["mlm"], out, "--target", "mlm", "--total_steps", "5", *common)
    first = read_metrics(out + ".metrics.jsonl")
    # As if a longer run had reported step 6 and died before its next checkpoint: it resumes from step 5.
    with open(out + ".metrics.jsonl", "a") as f:
        f.write(json.dumps(dict(first[-1], step=6, loss=123.0)) + "\n")
    pretrain(datasets["mlm"], out, "--target", "mlm", "--total_steps", "7", "--resume", *common)
    records = read_metrics(out + ".metrics.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6, 7]
    assert records[:5] == first
    assert records[5]["loss"] != 123.0
    assert [s for s, _ in events(tmp_path / "tb")["train/loss"]] == [1, 2, 3, 4, 5, 6, 7]


def test_fine_tuning_writes_tensorboard_and_metrics_file(tmp_path):
    config = tmp_path / "rnn.json"
    config.write_text('{"emb_size": 32, "hidden_size": 32, "layers_num": 1, "dropout": 0.0}')
    out = str(tmp_path / "cls.bin")
    run_script("run_classifier.py", "--vocab_path", VOCAB, "--config_path", str(config),
               "--train_path", os.path.join(CLS_DATA, "train.tsv"), "--dev_path", os.path.join(CLS_DATA, "dev.tsv"),
               "--test_path", os.path.join(CLS_DATA, "test.tsv"), "--output_model_path", out, "--batch_size", "64",
               "--embedding", "word", "--encoder", "lstm", "--pooling", "mean", "--learning_rate", "3e-3",
               "--epochs_num", "2", "--report_steps", "5", "--tensorboard_dir", str(tmp_path / "tb"))
    records = read_metrics(out + ".metrics.jsonl")
    steps_per_epoch = 13  # 800 examples, batch 64
    train = [r for r in records if r["split"] == "train"]
    assert [r["step"] for r in train] == [5, 10, 15, 20, 25, 26]
    dev = [r for r in records if r["split"] == "dev"]
    assert [(r["epoch"], r["step"]) for r in dev] == [(1, steps_per_epoch), (2, 2 * steps_per_epoch)]
    test = [r for r in records if r["split"] == "test"]
    assert len(test) == 1 and test[0]["acc"] > 0.8
    tags = events(tmp_path / "tb")
    assert [s for s, _ in tags["train/loss"]] == [5, 10, 15, 20, 25, 26]
    assert [v for _, v in tags["dev/acc"]] == pytest.approx([r["acc"] for r in dev])
    assert [s for s, _ in tags["test/acc"]] == [26]


def test_metrics_log_keeps_records_up_to_the_resumed_step(tmp_path):
    path = str(tmp_path / "m.jsonl")
    with MetricsLog(path) as log:
        for step in (1, 2, 3):
            log.log("train", {"step": step, "loss": 1.0 / step})
    with MetricsLog(path, resume_step=2) as log:
        log.log("train", {"step": 3, "loss": 0.25})
    assert [(r["step"], r["loss"]) for r in read_metrics(path)] == [(1, 1.0), (2, 0.5), (3, 0.25)]
    with MetricsLog(path) as log:  # a new run starts afresh
        log.log("dev", {"step": 7, "acc": 0.5})
    assert [r["split"] for r in read_metrics(path)] == ["dev"]
    MetricsLog(path, enabled=False).log("train", {"step": 8, "loss": 1.0})
    assert len(read_metrics(path)) == 1


def test_tensorboard_flag_without_the_package_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(UserInputError, match="pip install tensorboard"):
        summary_writer_class()


def test_progress_off_a_terminal_prints_plain_lines_every_few_percent():
    out = io.StringIO()
    bar = progress(total=200, desc="work", unit="doc", file=out, plain_delay=0)
    assert isinstance(bar, PlainLines)
    bar.mininterval = 0
    for _ in range(200):
        bar.update(1)
    bar.close()
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 20 and lines[0].startswith("work:   5% 10/200") and lines[-1].startswith("work: 100%")


def test_quick_work_prints_no_progress_off_a_terminal():
    out = io.StringIO()
    for _ in progress(range(100), desc="quick", file=out):
        pass
    assert out.getvalue() == ""  # so that a bad input still answers with its one line of error


def test_preprocess_progress_in_a_pipe_is_plain_lines(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "big.txt"
    with open(os.path.join(ROOT, "corpora", "book_review.txt"), encoding="utf-8") as f:
        corpus.write_text(f.read() * 8, encoding="utf-8")  # 4 MB: a few tokenizing jobs
    # lines start at once here: how soon the work is done within PLAIN_DELAY depends on the machine
    monkeypatch.setattr(preprocessing, "progress", functools.partial(progress, plain_delay=0))
    preprocess.main(["--corpus_path", str(corpus), "--vocab_path", VOCAB, "--dataset_path", str(tmp_path / "d.pt"),
                     "--target", "mlm", "--seq_length", "32", "--dup_factor", "1"])
    err = capsys.readouterr().err
    assert "\r" not in err
    assert re.search(r"^tokenizing: 100% .*B/s\]$", err, re.M), err
    assert all(re.match(r"^(tokenizing|building instances): +\d+% ", line) for line in err.splitlines())


def test_pretraining_shows_its_steps_and_reports_the_last_one(datasets, tmp_path, monkeypatch, capsys):
    """A run shorter than --report_steps still shows progress (steps, tokens/s) and ends with a report line and
    a metrics record of its last step."""
    import pretrain
    from uer.monitor import report
    monkeypatch.setattr(report, "progress", functools.partial(progress, plain_delay=0))
    out = str(tmp_path / "m.bin")
    pretrain.main(["--dataset_path", datasets["mlm"], "--vocab_path", VOCAB, "--output_model_path", out,
                   "--config_path", TINY, "--batch_size", "4", "--target", "mlm", "--total_steps", "7",
                   "--report_steps", "5"])
    captured = capsys.readouterr()
    assert re.findall(r"^\|\s+(\d+)/\s+7 steps", captured.out, re.M) == ["5", "7"]
    assert [r["step"] for r in read_metrics(out + ".metrics.jsonl")] == [5, 7]
    bar = captured.err.splitlines()
    assert bar[-1].startswith("pre-training: 100% 7/7 [") and re.search(r"step/s, \d+ tokens/s\]$", bar[-1]), bar
    assert all(line.startswith("pre-training: ") for line in bar)


def test_a_run_that_logs_nothing_leaves_no_metrics_file(tmp_path):
    path = str(tmp_path / "m.metrics.jsonl")
    with open(path, "w") as f:
        f.write('{"split": "train", "step": 100}\n')  # an earlier run's
    with MetricsLog(path):
        pass
    assert not os.path.exists(path)


def test_printed_rates_are_work_over_time():
    """As preprocessing sees it with two workers: the first update comes late (the pool starts, the vocabulary
    loads), the rest at once. The rate printed is all the bytes over all the time, not a moving average of
    the updates that happened to be drawn (which printed 25 kB/s for 112 kB in 0.9 s)."""
    import time
    out = io.StringIO()
    start = time.perf_counter()
    bar = progress(total=112_000, desc="tokenizing", unit="B", unit_scale=True, file=out, plain_delay=0)
    time.sleep(0.6)
    bar.update(14_000)
    for _ in range(7):
        bar.update(14_000)
    bar.close()
    elapsed = time.perf_counter() - start
    value, prefix = re.search(r"^tokenizing: 100% .*, ([0-9.]+)([kM]?)B/s\]$", out.getvalue(), re.M).groups()
    rate = float(value) * {"": 1, "k": 1e3, "M": 1e6}[prefix]
    assert 0.98 * 112_000 / elapsed <= rate <= 1.1 * 112_000 / 0.6, out.getvalue()  # 3 digits printed


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_plot_curves_draws_two_runs(tmp_path):
    for name, scale in (("fp32.jsonl", 1.0), ("fp16.jsonl", 1.1)):
        with MetricsLog(str(tmp_path / name)) as log:
            for step in range(10, 110, 10):
                log.log("train", {"step": step, "loss": scale * 9 / step, "loss_mlm": scale * 8 / step,
                                  "acc_mlm": step / 200, "loss_nsp": 0.7, "acc_nsp": 0.5, "lr": 1e-4,
                                  "tokens_per_s": 1000.0})
    out = tmp_path / "curves.png"
    proc = run_script("scripts/plot_curves.py", "--input", str(tmp_path / "fp32.jsonl"), str(tmp_path / "fp16.jsonl"),
                      "--output", str(out), "--dpi", "50")
    assert "5 panels, 2 runs" in proc.stdout  # loss, loss/acc of mlm and nsp (not lr, not throughput)
    assert png_size(out) == (3 * 240, 2 * 160)  # 3 x 2 panels of 4.8 x 3.2 inches at 50 dpi


def test_plot_curves_rejects_a_file_without_curves(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text(json.dumps({"split": "train", "note": "x"}) + "\n")
    proc = run_script("scripts/plot_curves.py", "--input", str(path), "--output", str(tmp_path / "c.png"),
                      check=False)
    assert proc.returncode != 0 and "no step with a loss or metric" in proc.stderr
