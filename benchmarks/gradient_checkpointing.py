#!/usr/bin/env python3
"""Activation memory and time of one BERT pre-training step with and without --gradient_checkpointing.

    python3 benchmarks/gradient_checkpointing.py [--config models/bert_base_config.json] [--batch_size 16]
                                                 [--seq_length 512] [--device cpu]

Each mode runs one forward + backward of the same model on the same batch with the same dropout masks
(dropout 0.1). Tensor memory is counted from the profiler's allocation events (CPU) or
torch.cuda.max_memory_allocated (CUDA): "held for backward" is what the forward pass leaves allocated, "peak" the
most allocated at any time in the step, both above the parameters. Peak RSS comes from a fresh process per
mode (CPU). Prints a table, the ratios, and the largest gradient difference between the modes.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from argparse import Namespace

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.model_builder import build_model  # noqa: E402
from uer.runtime.recompute import recompute_layers_in_backward  # noqa: E402
from uer.opts import MODEL_DEFAULTS, REPO_ROOT, load_config, smoke_opts  # noqa: E402

VOCAB = 21128


def model_and_batch(args, recompute):
    config = dict(MODEL_DEFAULTS, **load_config(args.config))
    config.update(embedding="bert", encoder="bert", target="mlm", tie_weights=False, dropout=0.1,
                  factorized_embedding_parameterization=False, parameter_sharing=False, bidirectional=False)
    torch.manual_seed(0)
    model = build_model(Namespace(**config), VOCAB).to(args.device).train()
    if recompute:
        recompute_layers_in_backward(model)
    g = torch.Generator().manual_seed(1)
    src = torch.randint(5, VOCAB, (args.batch_size, args.seq_length), generator=g)
    masked = torch.rand(src.shape, generator=g) < 0.15
    tgt = {"mlm": torch.where(masked, src, torch.zeros_like(src))}
    return model, [t.to(args.device) for t in (src, torch.ones_like(src))], {k: v.to(args.device) for k, v in
                                                                              tgt.items()}


def step(model, inputs, targets):
    torch.manual_seed(2)  # the same dropout masks in both modes
    parts = model(inputs[0], targets, inputs[1])
    loss = sum(p["loss_sum"] / p["count"] for p in parts.values())
    return loss


def measure(args, recompute):
    """(seconds, bytes held for backward, peak bytes, gradients)."""
    model, inputs, targets = model_and_batch(args, recompute)
    if args.device == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        loss = step(model, inputs, targets)
        held = torch.cuda.memory_allocated() - base
        loss.backward()
        torch.cuda.synchronize()
        seconds, peak = time.perf_counter() - start, torch.cuda.max_memory_allocated() - base
    else:
        from torch.profiler import profile, ProfilerActivity
        start = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as forward:
            loss = step(model, inputs, targets)
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as backward:
            loss.backward()
        seconds = time.perf_counter() - start
        held, peak_forward = live_bytes(forward)
        after, peak_backward = live_bytes(backward)
        peak = max(peak_forward, held + peak_backward)
    return seconds, held, peak, {n: p.grad for n, p in model.named_parameters() if p.grad is not None}


def live_bytes(prof):
    """(bytes allocated at the end, most allocated at any time) over a profiled region, from its allocation
    events."""
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    return live, peak


def peak_rss(args, recompute):
    """Peak RSS of a fresh process running one step, its RSS after building the model (MB), and the step's
    seconds (not profiled)."""
    code = ("import sys, json; sys.argv = sys.argv[:1] + json.loads(sys.argv[1]); "
            "sys.path.insert(0, 'benchmarks'); import gradient_checkpointing as g; g.rss_child()")
    argv = ["--config", args.config, "--batch_size", str(args.batch_size), "--seq_length", str(args.seq_length)]
    argv += ["--recompute"] * recompute
    out = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def rss_child():
    args = parser().parse_args()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak RSS, which a process started from a large one inherits
    model, inputs, targets = model_and_batch(args, args.recompute)
    built = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    start = time.perf_counter()
    step(model, inputs, targets).backward()
    print(json.dumps([peak_rss_mb(), built, time.perf_counter() - start]))


def peak_rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


TINY = os.path.join(REPO_ROOT, "models", "bert_tiny_config.json")


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=os.path.join(REPO_ROOT, "models", "bert_base_config.json"))
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--seq_length", type=int, default=512)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--recompute", action="store_true", help=argparse.SUPPRESS)
    smoke_opts(p)
    return p


def main():
    args = parser().parse_args()
    if args.smoke:
        args.config, args.batch_size, args.seq_length = TINY, 2, 16
    print(f"{os.path.basename(args.config)}, batch {args.batch_size} x {args.seq_length}, {args.device}, torch "
          f"{torch.__version__}, threads {torch.get_num_threads()}")
    rows = {mode: measure(args, mode) for mode in (False, True)}
    rss = {mode: peak_rss(args, mode) for mode in (False, True)} if args.device == "cpu" else {}
    print("\n| mode | step s | held for backward MB | peak tensor MB | peak RSS MB (above the built model) |")
    print("|---|---|---|---|---|")
    if rss:  # the step time of the unprofiled process
        rows = {mode: (rss[mode][2],) + rows[mode][1:] for mode in rows}
    for mode, (seconds, held, peak, _) in rows.items():
        rss_cell = f"{rss[mode][0]:.0f} ({rss[mode][0] - rss[mode][1]:.0f})" if rss else "-"
        print(f"| {'--gradient_checkpointing' if mode else 'plain'} | {seconds:.1f} | {held / 2 ** 20:.0f} | "
              f"{peak / 2 ** 20:.0f} | {rss_cell} |")
    (s0, h0, p0, g0), (s1, h1, p1, g1) = rows[False], rows[True]
    diff = max((g0[n] - g1[n]).abs().max().item() for n in g0)
    print(f"\nrecomputed / plain: held for backward {h1 / h0:.2f}x, peak tensor memory {p1 / p0:.2f}x, "
          f"step time {s1 / s0:.2f}x; largest gradient difference {diff:.1e}")
    if rss:
        print(f"peak RSS above the built model: {(rss[True][0] - rss[True][1]) / (rss[False][0] - rss[False][1]):.2f}x")


if __name__ == "__main__":
    main()
