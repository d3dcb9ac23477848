"""Resume, clean stops on signals, crash-safe checkpoint writes, distributed faults, no code from files."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from conftest import ROOT, VOCAB, TINY, run_script

DATA = os.path.join(ROOT, "datasets", "book_review")


def pretrain_cmd(dataset, out, *extra):
    return ["pretrain.py", "--dataset_path", dataset, "--vocab_path", VOCAB, "--output_model_path", out,
            "--config_path", TINY, "--batch_size", "4", "--target", "bert", "--learning_rate", "1e-3", *extra]


def classifier_cmd(out, *extra):
    """Two epochs of 13 steps on the first 200 training examples (the whole sample would only take longer)."""
    train = os.path.join(os.path.dirname(out), "train200.tsv")
    if not os.path.exists(train):
        with open(f"{DATA}/train.tsv", encoding="utf-8") as f, open(train, "w", encoding="utf-8") as g:
            g.writelines(f.readlines()[:201])
    return ["run_classifier.py", "--vocab_path", VOCAB, "--config_path", TINY, "--encoder", "bert",
            "--train_path", train, "--dev_path", f"{DATA}/dev.tsv", "--test_path", f"{DATA}/test.tsv",
            "--epochs_num", "2", "--batch_size", "16", "--learning_rate", "1e-3", "--report_steps", "1",
            "--output_model_path", out, *extra]


def weights(path):
    return torch.load(path, weights_only=True)


def assert_same_weights(a, b):
    a, b = weights(a), weights(b)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_with_signal(argv, after, signum=signal.SIGTERM):
    """Run a script, send `signum` once a stdout line contains `after`; returns (exit status, stdout, stderr)."""
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if after in line:
            proc.send_signal(signum)
            break
    out, err = proc.communicate(timeout=300)
    return proc.returncode, "".join(lines) + out, err


def test_pretrain_sigterm_checkpoints_then_resume_equals_uninterrupted(datasets, tmp_path):
    """Dropout on, warm-up and decay: stopped by SIGTERM at some step, resumed, the weights at the end equal
    those of a run that was never stopped."""
    common = ["--total_steps", "80", "--save_checkpoint_steps", "40", "--report_steps", "1"]
    code, out, err = stop_with_signal(pretrain_cmd(datasets["bert"], str(tmp_path / "b.bin"), *common), "   5/")
    assert code == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "stopped at step" in out
    step = int(out.split("stopped at step ")[1].split()[0])
    assert 5 <= step < 80 and step % 40
    assert (tmp_path / f"b.bin-{step}").exists() and (tmp_path / f"b.bin-{step}.state").exists()
    resumed = run_script(*pretrain_cmd(datasets["bert"], str(tmp_path / "b.bin"), *common, "--resume"))
    assert f"resuming from {tmp_path / 'b.bin'}-{step} (step {step})" in resumed.stdout
    run_script(*pretrain_cmd(datasets["bert"], str(tmp_path / "a.bin"), *common))
    assert_same_weights(tmp_path / "a.bin-80", tmp_path / "b.bin-80")
    assert (tmp_path / "a.bin-40").exists() and not (tmp_path / "a.bin-40.state").exists()  # newest state kept
    assert (tmp_path / "a.bin-80.state").exists()


@pytest.mark.parametrize("sharded", [[], ["--fsdp"]])
def test_pretrain_sigint_two_processes_then_resume(datasets, tmp_path, sharded):
    """Ctrl+C reaches the launcher and both workers: they agree on a step, checkpoint it (with each rank's
    dropout RNG state; under --fsdp each rank's optimizer shards) and exit; resuming gives the weights of a run
    never stopped."""
    def argv(out):
        return pretrain_cmd(datasets["bert"], str(tmp_path / out), "--total_steps", "30", "--report_steps", "1",
                            "--world_size", "2", "--gpu_ranks", "0", "1", "--backend", "gloo",
                            "--master_ip", f"tcp://127.0.0.1:{free_port()}", *sharded)
    code, out, err = stop_with_signal(argv("b.bin"), "   3/", signal.SIGINT)
    assert code == 128 + signal.SIGINT, err
    step = int(out.split("stopped at step ")[1].split()[0])
    assert step < 30 and (tmp_path / f"b.bin-{step}.state").exists()
    assert bool(sharded) == (tmp_path / f"b.bin-{step}.optimizer").is_dir()
    run_script(*argv("b.bin"), "--resume")
    run_script(*argv("a.bin"))
    assert_same_weights(tmp_path / "a.bin-30", tmp_path / "b.bin-30")
    assert not (tmp_path / f"b.bin-{step}.optimizer").exists()  # older shards go with their state


def test_pretrain_resume_refuses_other_flags(datasets, tmp_path):
    run_script(*pretrain_cmd(datasets["bert"], str(tmp_path / "a.bin"), "--total_steps", "2"))
    proc = run_script(*pretrain_cmd(datasets["bert"], str(tmp_path / "a.bin"), "--total_steps", "4", "--resume",
                                    "--batch_size", "8"), check=False)
    assert proc.returncode == 2 and "batch_size 4 (now 8)" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_script(*pretrain_cmd(datasets["bert"], str(tmp_path / "a.bin"), "--total_steps", "2", "--resume"),
                      check=False)
    assert proc.returncode == 2 and "already reached step 2" in proc.stderr


@pytest.fixture(scope="module")
def uninterrupted_fine_tuning(tmp_path_factory):
    """(model path, stdout) of the classifier run the stopped-and-resumed ones are compared with."""
    out = tmp_path_factory.mktemp("whole") / "a.bin"
    return out, run_script(*classifier_cmd(str(out))).stdout


def test_finetune_sigterm_then_resume_equals_uninterrupted(tmp_path, uninterrupted_fine_tuning):
    code, out, err = stop_with_signal(classifier_cmd(str(tmp_path / "b.bin")), "step 5/")
    assert code == 128 + signal.SIGTERM and "Traceback" not in err, err
    assert (tmp_path / "b.bin.resume").exists() and "--resume" in out
    resumed = run_script(*classifier_cmd(str(tmp_path / "b.bin"), "--resume"))
    assert "resuming from" in resumed.stdout
    assert not (tmp_path / "b.bin.resume").exists()  # removed once the run completed
    whole, whole_stdout = uninterrupted_fine_tuning
    assert_same_weights(whole, tmp_path / "b.bin")
    assert whole_stdout.splitlines()[-1] == resumed.stdout.splitlines()[-1]  # same test accuracy


@pytest.mark.parametrize("sharded", [[], ["--fsdp"]])
def test_finetune_under_torchrun_sigint_then_resume(tmp_path, sharded):
    """Ctrl+C to torchrun reaches both processes: they stop at the same step and the master writes one resume
    file with each process's dropout RNG (under --fsdp each writes its optimizer shards); resuming gives the
    weights of a run never stopped."""
    def argv(out, *extra):
        return ["-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
                *classifier_cmd(str(tmp_path / out), "--batch_size", "8", "--backend", "gloo", *sharded, *extra)]
    _, out, err = stop_with_signal(argv("b.bin"), "step 3/", signal.SIGINT)
    assert "stopped in epoch 1 after step" in out, err
    assert (tmp_path / "b.bin.resume").exists()
    shards = sorted(p.name for p in tmp_path.glob("b.bin.resume-*.optimizer"))
    saved = torch.load(tmp_path / "b.bin.resume", weights_only=True)
    assert shards == ([f"b.bin.resume-{saved['saves']}.optimizer"] if sharded else [])  # only the file's own
    resumed = run_script(*argv("b.bin", "--resume"))
    assert "resuming from" in resumed.stdout
    run_script(*argv("a.bin"))
    assert_same_weights(tmp_path / "a.bin", tmp_path / "b.bin")
    assert not (tmp_path / "b.bin.resume").exists() and not list(tmp_path.glob("b.bin.resume*.optimizer"))


def test_finetune_resume_between_epochs(tmp_path, uninterrupted_fine_tuning):
    """The .resume file written after epoch 1 (kept here by stopping in epoch 2) continues to the same end."""
    code, _, _ = stop_with_signal(classifier_cmd(str(tmp_path / "b.bin")), "step 18/")
    assert code == 128 + signal.SIGTERM
    run_script(*classifier_cmd(str(tmp_path / "b.bin"), "--resume"))
    assert_same_weights(uninterrupted_fine_tuning[0], tmp_path / "b.bin")


WRITER = """
import sys, torch
sys.path.insert(0, {root!r})
from uer.model_saver import atomic_torch_save
version = 0
while True:
    version += 1
    atomic_torch_save({{"w": torch.full((2_000_000,), float(version)), "version": torch.tensor(version)}}, {path!r})
    print(version, flush=True)
"""


def test_kill_9_during_checkpoint_writes_never_leaves_a_broken_file(tmp_path):
    """A process rewriting an 8 MB checkpoint in a loop is killed with SIGKILL at many moments: the file is
    always complete (one whole version), and the temporary files of killed writers are cleaned up by the next
    successful write."""
    path = str(tmp_path / "model.bin")
    seen_versions, killed_mid_write = set(), 0
    for attempt in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=ROOT, path=path)], stdout=subprocess.PIPE,
                                text=True)
        proc.stdout.readline()  # at least one complete write
        time.sleep(0.01 + 0.05 * attempt)
        proc.kill()
        proc.wait()
        state = torch.load(path, weights_only=True)
        version = int(state["version"])
        assert torch.equal(state["w"], torch.full((2_000_000,), float(version)))
        seen_versions.add(version)
        leftovers = [n for n in os.listdir(tmp_path) if n != "model.bin"]
        # A kill mid-write leaves its temporary file; the next writer removes its predecessors' ones.
        assert len(leftovers) <= 1 and all(n.endswith(".tmp") for n in leftovers)
        killed_mid_write += len(leftovers)
    assert len(seen_versions) > 1 and killed_mid_write > 0
    from uer.core.fileutil import atomic_open
    with atomic_open(path) as f:
        torch.save({"version": torch.tensor(0)}, f)
    assert os.listdir(tmp_path) == ["model.bin"]


def lone_rank_0(datasets, tmp_path, port, timeout):
    """pretrain.py as rank 0 of 2 with nobody else coming; returns (process, seconds it took)."""
    start = time.monotonic()
    proc = run_script(*pretrain_cmd(datasets["bert"], str(tmp_path / "a.bin"), "--total_steps", "2",
                                    "--world_size", "2", "--gpu_ranks", "0", "--backend", "gloo",
                                    "--dist_timeout", str(timeout), "--master_ip", f"tcp://127.0.0.1:{port}"),
                      check=False)
    return proc, time.monotonic() - start


def test_busy_master_port_fails_fast(datasets, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        proc, took = lone_rank_0(datasets, tmp_path, s.getsockname()[1], timeout=5)
    assert proc.returncode == 1 and took < 60
    assert proc.stderr.strip().splitlines()[-1].startswith("error: rank 0: cannot join")
    assert "already in use" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_peer_ends_within_the_timeout(datasets, tmp_path):
    proc, took = lone_rank_0(datasets, tmp_path, free_port(), timeout=3)
    assert proc.returncode == 1 and took < 60
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: rank 0: cannot join") and "1/2" in last and "--dist_timeout" in last


def test_crashed_worker_stops_its_peer(datasets, tmp_path):
    """Two nodes' worth of launches (one rank each); rank 1 is killed with SIGKILL mid-training."""
    argv = pretrain_cmd(datasets["bert"], str(tmp_path / "a.bin"), "--total_steps", "100000", "--report_steps", "1",
                        "--world_size", "2", "--backend", "gloo", "--dist_timeout", "30",
                        "--master_ip", f"tcp://127.0.0.1:{free_port()}")
    rank0 = subprocess.Popen([sys.executable, *argv, "--gpu_ranks", "0"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    rank1 = subprocess.Popen([sys.executable, *argv, "--gpu_ranks", "1"], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    for line in rank0.stdout:
        if "   3/" in line:
            break
    rank1.kill()
    start = time.monotonic()
    _, err = rank0.communicate(timeout=120)
    assert rank0.returncode == 1 and time.monotonic() - start < 45
    assert err.strip().splitlines()[-1].startswith("error: rank 0: lost contact with the other training processes")


class Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize("script", ["check_model", "inference"])
def test_pickled_code_in_a_model_file_is_not_run(tmp_path, script):
    evil = tmp_path / "evil.bin"
    torch.save({"embedding.word.embedding.weight": torch.zeros(2), "x": Boom()}, evil)
    if script == "check_model":
        argv = ["scripts/check_model.py", "--load_model_path", str(evil)]
    else:
        argv = ["inference/run_classifier_infer.py", "--load_model_path", str(evil), "--vocab_path", VOCAB,
                "--config_path", TINY, "--test_path", f"{DATA}/test_nolabel.tsv", "--prediction_path",
                str(tmp_path / "p.tsv"), "--labels_num", "2"]
    proc = subprocess.run([sys.executable, os.path.join(ROOT, argv[0]), *argv[1:]], cwd=tmp_path,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 2 and "not a loadable UER model file" in proc.stderr
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "p.tsv").exists()


def test_pickled_code_in_a_training_state_is_not_run(tmp_path, monkeypatch):
    from uer.core.errors import UserInputError
    from uer.runtime.training_state import load_state
    monkeypatch.chdir(tmp_path)
    torch.save({"step": 1, "x": Boom()}, tmp_path / "a.bin-1.state")
    with pytest.raises(UserInputError, match="not a loadable training state"):
        load_state(str(tmp_path / "a.bin-1.state"))
    assert not (tmp_path / "PWNED").exists()


def test_no_shell_commands_built_from_strings():
    """User paths must never reach a shell: no os.system/os.popen/shell=True anywhere in the project code."""
    offenders = []
    for folder, _, files in os.walk(ROOT):
        if any(part in folder for part in ("/tests", "/.git", "/corpora")):
            continue
        for name in files:
            if name.endswith(".py"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                offenders += [name for bad in ("os.system(", "os.popen(", "shell=True") if bad in text]
    assert not offenders
