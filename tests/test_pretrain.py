import re

import numpy as np
import pytest
import torch

from conftest import model_args, run_script, VOCAB, CORPUS, CORPUS_BERT, TINY, TINY_ALBERT, load_script
from uer.runtime.precision import cpu_has_fast_bf16
from uer.data.pretrain_data import PretrainDataset


def pretrain(dataset, out, *extra):
    return run_script("pretrain.py", "--dataset_path", dataset, "--vocab_path", VOCAB, "--output_model_path", out,
                      *extra)


def report_values(stdout, key):
    return [float(v) for v in re.findall(rf"{key}\s+([0-9.]+)", stdout)]


def test_tiny_bert_learns_masked_tokens(datasets, tmp_path):
    out = str(tmp_path / "bert.bin")
    proc = pretrain(datasets["bert"], out, "--config_path", TINY, "--total_steps", "300", "--report_steps", "50",
                    "--save_checkpoint_steps", "150", "--batch_size", "16", "--learning_rate", "5e-4",
                    "--encoder", "bert", "--target", "bert")
    acc = report_values(proc.stdout, "acc_mlm")
    loss = report_values(proc.stdout, "loss_mlm")
    assert len(acc) == 6 and "tokens/s" in proc.stdout and "acc_nsp" in proc.stdout
    assert loss[-1] < loss[0] - 1.0
    dataset = PretrainDataset(datasets["bert"])
    batches = (dataset.batch(np.arange(i, i + 500)) for i in range(0, 5000, 500))
    targets = np.concatenate([t["mlm"][t["mlm"] > 0] for _, t, _ in batches])
    unigram = np.bincount(targets).max() / len(targets)  # always guessing the most frequent token
    assert acc[-1] > 1.6 * unigram and acc[-1] > 60 / 676, f"MLM accuracy {acc[-1]} (unigram baseline {unigram:.3f})"
    assert (tmp_path / "bert.bin-150").exists() and (tmp_path / "bert.bin-300").exists()


def final_loss(model_path, dataset, target, config=TINY, tie_weights=False):
    """Loss of a saved model on the first 16 instances (no dropout)."""
    from uer.model_builder import build_model
    from uer.model_loader import load_model
    from uer.opts import load_config
    model = build_model(model_args(load_config(config), target=target, dropout=0.0, tie_weights=tie_weights),
                        676).eval()
    load_model(model, model_path)
    src, tgt, seg = PretrainDataset(dataset).batch(np.arange(16))
    to = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    parts = model(to(src), {k: to(v) for k, v in tgt.items()}, to(seg))
    return sum((p["loss_sum"] / p["count"]).item() for p in parts.values())


@pytest.mark.parametrize("tied", [[], ["--tie_weights"]])  # tied: the word lookups' gradients are sparse
def test_two_process_gloo_equals_one_process_with_double_batch(datasets, tmp_path, tied):
    common = ["--config_path", TINY, "--total_steps", "6", "--report_steps", "3", "--learning_rate", "1e-3",
              "--dropout", "0.0", "--warmup", "0.0", "--target", "bert", *tied]
    pretrain(datasets["bert"], str(tmp_path / "one.bin"), *common, "--batch_size", "8")
    pretrain(datasets["bert"], str(tmp_path / "two.bin"), *common, "--batch_size", "4", "--world_size", "2",
             "--gpu_ranks", "0", "1", "--backend", "gloo", "--master_ip", "tcp://127.0.0.1:29561")
    one = torch.load(tmp_path / "one.bin-6", weights_only=True)
    two = torch.load(tmp_path / "two.bin-6", weights_only=True)
    for key in one:
        assert torch.allclose(one[key], two[key], atol=2e-5), key
    l1 = final_loss(str(tmp_path / "one.bin-6"), datasets["bert"], "bert", tie_weights=bool(tied))
    l2 = final_loss(str(tmp_path / "two.bin-6"), datasets["bert"], "bert", tie_weights=bool(tied))
    assert abs(l1 - l2) < 1e-4


def test_torchrun_launch(datasets, tmp_path):
    out = str(tmp_path / "tr.bin")
    run_script("-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29562", "pretrain.py",
               "--dataset_path", datasets["lm"], "--vocab_path", VOCAB, "--output_model_path", out,
               "--config_path", TINY, "--encoder", "gpt", "--target", "lm", "--total_steps", "4",
               "--report_steps", "2", "--batch_size", "4", "--backend", "gloo")
    assert (tmp_path / "tr.bin-4").exists()


@pytest.fixture(scope="module")
def readme_dataset(tmp_path_factory):
    """preprocess.py's dataset for a pipeline's flags, made once for the pipelines that share them (RoBERTa and
    SpanBERT)."""
    made = {}

    def make(pre):
        if tuple(pre) not in made:
            dataset = str(tmp_path_factory.mktemp("readme") / "dataset.pt")
            load_script("preprocess.py").main(["--vocab_path", VOCAB, "--dataset_path", dataset, "--processes_num",
                                               "2", "--seq_length", "64", *pre])
            made[tuple(pre)] = dataset
        return made[tuple(pre)]
    return make


@pytest.mark.parametrize("name, pre, train", [
    ("roberta", ["--corpus_path", CORPUS, "--dynamic_masking", "--target", "mlm"],
     ["--config_path", TINY, "--encoder", "bert", "--target", "mlm"]),
    ("albert", ["--corpus_path", CORPUS_BERT, "--target", "albert"],
     ["--config_path", TINY_ALBERT, "--encoder", "bert", "--target", "albert",
      "--factorized_embedding_parameterization", "--parameter_sharing"]),
    ("gpt", ["--corpus_path", CORPUS, "--target", "lm"],
     ["--config_path", TINY, "--learning_rate", "1e-4", "--encoder", "gpt", "--target", "lm"]),
    ("spanbert", ["--corpus_path", CORPUS, "--dynamic_masking", "--target", "mlm"],
     ["--config_path", TINY, "--encoder", "bert", "--target", "mlm", "--span_masking"]),
])
def test_readme_pipelines(tmp_path, readme_dataset, name, pre, train):
    dataset = readme_dataset(pre)
    out = str(tmp_path / "output_model.bin")
    proc = pretrain(dataset, out, *train, "--total_steps", "20", "--report_steps", "10", "--batch_size", "8")
    assert len(report_values(proc.stdout, "loss")) >= 2
    assert (tmp_path / "output_model.bin-20").exists()
    again = pretrain(dataset, str(tmp_path / "again.bin"), *train, "--total_steps", "2", "--report_steps", "1",
                     "--batch_size", "8", "--pretrained_model_path", out + "-20")
    assert "WARNING" not in again.stderr


def test_fp16_flag(datasets, tmp_path):
    proc = pretrain(datasets["mlm"], str(tmp_path / "m.bin"), "--config_path", TINY, "--target", "mlm",
                    "--total_steps", "4", "--report_steps", "2", "--batch_size", "8", "--fp16")
    if not cpu_has_fast_bf16():
        assert "no native bf16" in proc.stderr
    assert (tmp_path / "m.bin-4").exists()


@pytest.mark.parametrize("bf16, fp32, chosen", [(150.0, 258.0, False), (900.0, 200.0, True), (240.0, 200.0, False)])
def test_fp16_on_cpu_follows_the_measured_product_rates(monkeypatch, capsys, bf16, fp32, chosen):
    """A CPU that lists AVX512-BF16 can still multiply bf16 slower than fp32 (a Xeon: 143-156 vs 257-259
    GFLOP/s): --fp16 then trains in fp32 and says why in one line."""
    from uer.runtime import precision
    monkeypatch.setattr(precision, "cpu_has_fast_bf16", lambda: True)
    monkeypatch.setattr(precision, "cpu_matmul_rates", lambda: {"fp32": fp32, "bf16": bf16})
    p = precision.Precision(True, "O1", "cpu")
    lines = capsys.readouterr().err.splitlines()
    assert p.enabled is chosen and len(lines) == 1
    assert f"bf16 matrix products run at {bf16:.0f} GFLOP/s here, fp32 at {fp32:.0f}" in lines[0]
    assert ("training in fp32" in lines[0]) is not chosen


def test_cpu_matmul_rates_are_measured_once_per_process():
    from uer.runtime.precision import cpu_matmul_rates
    rates = cpu_matmul_rates(rows=32, width=64, repeats=2)
    assert set(rates) == {"fp32", "bf16"} and all(r > 0 for r in rates.values())
    assert cpu_matmul_rates(rows=32, width=64, repeats=2) is rates


def test_config_and_flags_precedence(tmp_path):
    from pretrain import build_parser
    from uer.opts import parse
    argv = ["--output_model_path", "x", "--config_path", TINY_ALBERT]
    args = parse(build_parser(), argv)
    assert args.layers_num == 3 and args.hidden_size == 64 and args.parameter_sharing
    assert args.dropout == 0.0
    args = parse(build_parser(), argv + ["--dropout", "0.3"])
    assert args.dropout == 0.3
