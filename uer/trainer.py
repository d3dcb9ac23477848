"""The pre-training loop, over the one runtime (uer/runtime/): a step is a batch's forward and backward pass, an
optimizer step every --accumulation_steps, a report line, a checkpoint with its resumable state."""
import contextlib
import signal

import torch
import torch.distributed as dist

from uer.core.errors import UserInputError
from uer.core.model_config import model_config
from uer.data.pretrain_data import BatchLoader
from uer.data.training_input import open_dataset
from uer.model_builder import build_model
from uer.model_loader import load_exact
from uer.model_saver import unwrap
from uer.runtime.flops import flops_per_token, peak_flops
from uer.monitor.progress import write
from uer.monitor.report import Reporter, StepBar
from uer.optim.optimizers import build_optimizer
from uer.runtime import distributed, sharding
from uer.runtime.adapters import load_adapters
from uer.runtime.launch import launch as launch_processes
from uer.runtime.resumable import ResumableState, checkpoint_to_resume
from uer.runtime.signals import StopSignals
from uer.runtime.training_state import state_path, drop_older_states

RUN_FLAGS = ("target", "embedding", "encoder", "batch_size", "accumulation_steps", "seed", "instances_buffer_size",
             "fsdp", "optimizer", "scheduler", "use_lora")


def launch(args):
    """Pre-train in every process this node runs; returns the signal number that stopped training early, or 0."""
    return launch_processes(args, train)


def placed_model(args, runtime, vocab, tgt_vocab, resume):
    """The model built, prepared (pre-trained weights, LoRA, recomputation), given the resumed checkpoint's
    weights (under --fsdp the master's are sent) and placed."""
    model = runtime.build(lambda: build_model(args, len(vocab), vocab, len(tgt_vocab) if tgt_vocab else None),
                          args.seed)
    runtime.prepare(model, ("target.",))
    if resume and not (args.fsdp and not runtime.is_master):
        load_adapters(model, resume[1]) if args.use_lora else load_exact(model, resume[1])
    return runtime.place(model)


def train(args, runtime):
    dataset, vocab, tgt_vocab, facts = open_dataset(args)
    args = model_config(args, **facts)  # the run's flags and what the dataset says
    resume = checkpoint_to_resume(args.output_model_path, runtime) if args.resume else None
    model = placed_model(args, runtime, vocab, tgt_vocab, resume)
    accumulation = max(1, args.accumulation_steps)
    optimizer, scheduler = build_optimizer(model, args, max(1, args.total_steps // accumulation))
    loader = BatchLoader(dataset, args.batch_size, runtime.placement.rank, runtime.size, args.seed,
                         args.instances_buffer_size, runtime.device)
    torch.manual_seed(args.seed + runtime.placement.rank)  # dropout differs between processes
    identity = {**{k: getattr(args, k) for k in RUN_FLAGS}, "world_size": runtime.size,
                "dataset_instances": len(dataset)}
    state = ResumableState(runtime, model, optimizer, scheduler, identity)
    start = restore(args, runtime, state, loader, resume) if resume else 0
    reporter = Reporter(args.batch_size, args.seq_length, runtime.size, args.total_steps,
                        model_flops(model, args, runtime))
    metrics = runtime.metrics(start if resume else None)
    model.train()
    bar = StepBar(args.batch_size * args.seq_length * runtime.size, args.total_steps, start, runtime.is_master)
    with StopSignals() as stop, metrics, bar:
        try:
            for step in range(start + 1, args.total_steps + 1):
                sync = step % accumulation == 0 or step == args.total_steps
                batch = next(loader)
                parts = train_step(model, batch, runtime, accumulation, sync)
                if sync:
                    runtime.precision.step(optimizer)
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                reporter.add(parts, batch[2])
                bar.advance(step)
                if (step % args.report_steps == 0 or step == args.total_steps) and runtime.is_master:
                    reporter.report(metrics, step, scheduler.get_last_lr()[0], runtime.precision.scaler)
                signum = runtime.stop_agreed(stop) if sync else 0
                if step % args.save_checkpoint_steps == 0 or step == args.total_steps or signum:
                    checkpoint(args, state, loader, step)
                if signum:
                    if runtime.is_master:
                        write(f"stopped at step {step} by {signal.Signals(signum).name}; continue with the same "
                              "command plus --resume")
                    return signum
        except (dist.DistError, RuntimeError) as e:
            if runtime.distributed and distributed.is_peer_failure(e):
                raise distributed.lost_peer(e, runtime.placement) from None
            raise
    return 0


def model_flops(model, args, runtime):
    """(training FLOPs per token, peak FLOP/s of a device) for the report's MFU; said once where the peak comes
    from."""
    per_token = flops_per_token(unwrap(model), args, args.seq_length)
    peak, source = peak_flops(runtime.device, runtime.precision, getattr(args, "peak_tflops", None))
    if runtime.is_master:
        write(f"MFU over {peak / 1e12:.2f} TFLOP/s per device ({source}); {per_token / 1e9:.3f} GFLOP per token")
    return per_token, peak


def train_step(model, batch, runtime, accumulation, sync):
    src, tgt, seg = batch
    if runtime.fsdp:
        sharding.gradient_sync(model, sync)
    no_sync = model.no_sync() if runtime.distributed and not sync and not runtime.fsdp else contextlib.nullcontext()
    with no_sync:
        with runtime.precision.autocast():
            parts = model(src, tgt, seg)
        loss = runtime.normalized_parts(parts) / accumulation
        runtime.precision.backward(loss)
    return parts


def checkpoint(args, state, loader, step):
    """OUTPUT_MODEL_PATH-STEP and its resumable state (every process calls this)."""
    path = f"{args.output_model_path}-{step}"
    state.save(state_path(path), {"step": step, "data_position": loader.position}, weights_path=path,
               shards_stem=path)
    if state.runtime.is_master:
        drop_older_states(args.output_model_path, step)


def restore(args, runtime, state, loader, resume):
    """The resumed checkpoint's state (its weights were loaded before the model was placed); returns its step."""
    step, model_path = resume

    def check(_):
        if args.total_steps <= step:
            raise UserInputError(f"{model_path}: the run already reached step {step}; raise --total_steps to "
                                 "train further")
    saved = state.restore(state_path(model_path), model_path, check)
    loader.position = saved["data_position"]
    if runtime.is_master:
        print(f"resuming from {model_path} (step {step})", flush=True)
    return step
