"""The accelerator check (benchmarks/accelerator_check.sh): on a CUDA machine every check but the throughput
comparison must pass; elsewhere the command says so in one line and exits 0, and the GPU test is skipped."""
import subprocess
import sys

import pytest
import torch

from conftest import ROOT


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available: the test below runs the checks")
def test_without_cuda_the_check_says_so_and_exits_0():
    proc = subprocess.run(["bash", "benchmarks/accelerator_check.sh"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines() == [
        "accelerator check: no CUDA device here (torch.cuda.is_available() is False); nothing to check"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_every_accelerator_path_passes(tmp_path):
    proc = subprocess.run([sys.executable, "benchmarks/accelerator_check.py", "--skip_throughput",
                           "--work_dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout
