"""The benchmark scripts' headline commands in their smoke mode (tiny sizes, a step or two), so that a command
the docs print cannot break unseen; the figures themselves come from full runs, never from tests."""
from conftest import run_script


def test_pretrain_speed_runs_a_row_of_each_kind():
    """BERT (with its fused-norm side), an RNN, the LLaMA row (a dict config) and an encoder-decoder."""
    proc = run_script("benchmarks/pretrain_speed.py", "--smoke", "--models", "tiny,lstm,llama,bart")
    rows = [line.split(" | ") for line in proc.stdout.splitlines() if line.startswith("| ") and "fp32" in line]
    assert [r[0][2:] for r in rows] == ["BERT-tiny", "BERT-tiny", "LSTM lm", "LLaMA-style 4x512", "BART-base"]
    assert all(r[5].isdigit() and int(r[5]) > 0 for r in rows), proc.stdout
