#!/usr/bin/env python3
"""--fsdp against DDP: the same steps in two processes (gloo on CPU, nccl on CUDA), losses and per-process memory.

    python3 benchmarks/fsdp_check.py [--config models/bert_base_config.json] [--steps 30] [--batch_size 2]
                                     [--seq_length 64] [--processes 2]

Each mode trains the same BERT (MLM target, dropout 0, fp32, UER's AdamW) from the same weights on the same
batches, each process its share, as pretrain.py does, and reports the global loss of every step; then each
process counts the bytes of the parameters, gradients and optimizer state it holds (a sharded tensor counts its
local shard) and its peak RSS. Prints a table, the largest relative loss difference and the memory ratios.
"""
import argparse
import os
import sys
from argparse import Namespace

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.model_builder import build_model, units_to_shard  # noqa: E402
from uer.opts import MODEL_DEFAULTS, REPO_ROOT, load_config, parse_benchmark  # noqa: E402
from uer.runtime import sharding  # noqa: E402
from uer.runtime.distributed import Placement  # noqa: E402
from uer.runtime.memory import keep_freed_memory  # noqa: E402
from uer.runtime.precision import Precision  # noqa: E402
from uer.optim.optimizers import build_optimizer  # noqa: E402

VOCAB = 21128


def local_bytes(t):
    t = t.to_local() if hasattr(t, "to_local") else t
    return t.numel() * t.element_size()


def held_bytes(model, optimizer):
    params = sum(local_bytes(p) for p in model.parameters())
    grads = sum(local_bytes(p.grad) for p in model.parameters() if p.grad is not None)
    state = sum(local_bytes(v) for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v))
    return params, grads, state


def peak_rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def worker(rank, args, mode, port, results):
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // args.processes))
    cuda = torch.cuda.is_available()
    if not cuda and mode == "ddp":
        keep_freed_memory()  # as pretrain.py on the CPU (not under --fsdp: see uer/runtime/memory.py)
    device = torch.device("cuda", rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)  # FSDP places its buffers on the current device
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=args.processes)
    config = dict(MODEL_DEFAULTS, **load_config(args.config))
    config.update(embedding="bert", encoder="bert", target="mlm", tie_weights=False, dropout=0.0, warmup=0.0,
                  learning_rate=1e-4, beta1=0.9, beta2=0.999, factorized_embedding_parameterization=False,
                  parameter_sharing=False, bidirectional=False)
    model_args = Namespace(**config)
    torch.manual_seed(0)
    placement = Placement(rank=rank, world_size=args.processes, device=str(device))
    if mode == "fsdp":  # as pretrain.py: the master builds the model, the others get their shards from it
        with sharding.building_device(placement):
            model = build_model(model_args, VOCAB).train()
        model = sharding.shard(model, units_to_shard(model, model_args), placement, Precision(False, "O0", device))
    else:
        model = build_model(model_args, VOCAB).to(device).train()
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[rank] if cuda else None)
    optimizer, scheduler = build_optimizer(model, model_args, args.steps)
    losses = []
    for step in range(args.steps):
        g = torch.Generator().manual_seed(step)
        src = torch.randint(5, VOCAB, (args.batch_size * args.processes, args.seq_length), generator=g)
        tgt = torch.where(torch.rand(src.shape, generator=g) < 0.15, src, torch.zeros_like(src))
        share = slice(rank * args.batch_size, (rank + 1) * args.batch_size)
        src, tgt = src[share].to(device), tgt[share].to(device)
        part = model(src, {"mlm": tgt}, torch.ones_like(src))["mlm"]
        totals = torch.stack([part["loss_sum"].detach(), part["count"].float()])
        dist.all_reduce(totals)
        (part["loss_sum"] / totals[1] * args.processes).backward()  # gradients are averaged over processes
        losses.append((totals[0] / totals[1]).item())
        optimizer.step()
        scheduler.step()
        if step < args.steps - 1:
            optimizer.zero_grad(set_to_none=True)
    held = held_bytes(model, optimizer)
    results.put((mode, rank, losses, held, peak_rss_mb()))
    dist.destroy_process_group()


def run(args, mode, port):
    context = mp.get_context("spawn")
    results = context.Queue()
    procs = [context.Process(target=worker, args=(rank, args, mode, port, results)) for rank in range(args.processes)]
    for p in procs:
        p.start()
    out = [results.get() for _ in procs]
    for p in procs:
        p.join()
    return sorted(out, key=lambda r: r[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=os.path.join(REPO_ROOT, "models", "bert_base_config.json"))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch_size", type=int, default=2, help="Per process.")
    parser.add_argument("--seq_length", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2)
    args = parse_benchmark(parser, config=os.path.join(REPO_ROOT, "models", "bert_tiny_config.json"), steps=2,
                           seq_length=16)
    print(f"{os.path.basename(args.config)}, {args.processes} processes x batch {args.batch_size} x "
          f"{args.seq_length}, {args.steps} steps, torch {torch.__version__}")
    rows = {mode: run(args, mode, 29600 + i) for i, mode in enumerate(("ddp", "fsdp"))}
    print("\n| mode | rank | parameters MB | gradients MB | optimizer state MB | total MB | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for mode, ranks in rows.items():
        for _, rank, _, held, rss in ranks:
            print(f"| {mode} | {rank} | " + " | ".join(f"{b / 2 ** 20:.0f}" for b in held) +
                  f" | {sum(held) / 2 ** 20:.0f} | {rss:.0f} |")
    ddp, fsdp = rows["ddp"][0][2], rows["fsdp"][0][2]
    worst = max(abs(a - b) / abs(a) for a, b in zip(ddp, fsdp))
    ratio = max(sum(r[3]) for r in rows["fsdp"]) / max(sum(r[3]) for r in rows["ddp"])
    rss = max(r[4] for r in rows["fsdp"]) / max(r[4] for r in rows["ddp"])
    others = [r[4] for r in rows["fsdp"][1:]]  # --fsdp needs two processes or more
    print(f"\nloss: first {ddp[0]:.5f}, last {ddp[-1]:.5f} (DDP); largest relative difference FSDP vs DDP over "
          f"{len(ddp)} steps {worst:.1e}")
    print(f"per-process parameters + gradients + optimizer state, FSDP / DDP: {ratio:.2f}x; peak RSS {rss:.2f}x "
          f"(the master's; the others' {max(others) / max(r[4] for r in rows['ddp']):.2f}x)")


if __name__ == "__main__":
    main()
