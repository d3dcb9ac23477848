"""Pre-training loop: one function per process, CPU / one GPU / DDP over torch.distributed."""
import contextlib
import os
import signal
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from uer.model_builder import build_model, recompute_layers_in_backward, units_to_shard
from uer.models.body import POSITION_TABLES
from uer.runtime.adapters import adapt_pretrained, load_adapters
from uer.model_loader import load_model, load_exact
from uer.model_saver import save_model, atomic_torch_save, unwrap
from uer.runtime import distributed, sharding
from uer.runtime.compile import compile_model
from uer.optim.optimizers import build_optimizer
from uer.runtime.precision import Precision
from uer.data.pretrain_data import PretrainDataset, BatchLoader
from uer.core.errors import UserInputError, RunFailure
from uer.runtime.memory import keep_freed_memory
from uer.runtime.signals import StopSignals, ForwardSignals
from uer.runtime.training_state import (SUFFIX, state_path, save_state, load_state, torch_rng, set_torch_rng,
                                              check_same_run, latest_checkpoint, optimization_state,
                                              restore_optimization, drop_older_states)
from uer.monitor.report import Reporter
from uer.monitor.metrics import MetricsLog, default_metrics_path
from uer.monitor.progress import progress, write
from uer.text.tokenizers import load_vocab, load_tgt_vocab


def normalized_loss(parts, placement):
    """Sum of part means, each normalised by its count over all processes.

    DDP averages gradients over processes, so we scale by world_size: the result is exactly the gradient of
    the loss over the whole global batch, whatever way it is split.
    """
    counts = torch.stack([p["count"] for p in parts.values()]).float()
    if placement.distributed:
        counts = distributed.all_reduce_sum(counts.clone(), placement)
    losses = [p["loss_sum"] / c.clamp(min=1) for p, c in zip(parts.values(), counts)]
    return torch.stack(losses).sum() * placement.world_size


def prepare(args, placement):
    vocab, _ = load_vocab(args)
    dataset = PretrainDataset(args.dataset_path)
    made_for = getattr(args, "data_processor", None)
    if made_for and made_for != dataset.header["target"]:
        raise UserInputError(f"{args.config_path}: data_processor {made_for!r}, but {args.dataset_path} was made by "
                             f"preprocess.py --target {dataset.header['target']}; preprocess with --target {made_for}")
    dataset.check(args.target, vocab, args.span_masking, (args.span_geo_prob, args.span_max_length),
                  args.whole_word_masking)
    if args.target == "cls":
        args.labels_num = dataset.header["labels_num"]
    args.seq_length = dataset.header["seq_length"]
    if args.embedding in POSITION_TABLES and args.seq_length > args.max_seq_length:
        raise UserInputError(f"{args.dataset_path} has seq_length {args.seq_length}, longer than the position "
                             f"embedding ({args.max_seq_length} positions, config max_seq_length)")
    tgt_vocab = check_seq2seq(args, dataset)
    torch.manual_seed(args.seed)
    with sharding.building_device(placement) if args.fsdp else contextlib.nullcontext():
        model = build_model(args, len(vocab), vocab, len(tgt_vocab) if tgt_vocab else None)
    if args.gradient_checkpointing:
        recompute_layers_in_backward(model)
    loaded = None
    if args.pretrained_model_path:
        loaded = load_model(model, args.pretrained_model_path, ignore_prefixes=("target.",))
    if args.use_lora:
        adapt_pretrained(model, args, loaded, ("target.",))
    return dataset, model


def check_seq2seq(args, dataset):
    """An encoder-decoder model trains on an encoder-decoder dataset and the other way round; returns the target
    vocabulary when the dataset has its own (checked against --tgt_vocab_path / --tgt_spm_model_path)."""
    h, path = dataset.header, args.dataset_path
    if dataset.data.seq2seq != bool(getattr(args, "decoder", None)):
        if dataset.data.seq2seq:
            raise UserInputError(f"{path} was made by preprocess.py --target {h['target']}, which trains an "
                                 "encoder-decoder model: a config with \"decoder\" (e.g. models/t5_small_config.json)")
        raise UserInputError(f"{args.config_path}: an encoder-decoder model (\"decoder\") trains on a dataset of "
                             f"preprocess.py --target mt, t5, bart or gsg, not {h['target']}")
    dataset.start_id = getattr(args, "decoder_start_token_id", None)
    tgt_vocab = load_tgt_vocab(args)
    if "tgt_vocab_fingerprint" not in h:
        if tgt_vocab is not None:
            raise UserInputError(f"{path} was made without a target vocabulary; drop --tgt_vocab_path / "
                                 "--tgt_spm_model_path")
        return None
    if tgt_vocab is None or tgt_vocab.fingerprint != h["tgt_vocab_fingerprint"]:
        raise UserInputError(f"{path} was made with the target vocabulary {h['tgt_vocab_source']} "
                             f"({h['tgt_vocab_size']} tokens); pass the same --tgt_vocab_path or "
                             "--tgt_spm_model_path to pretrain.py")
    return tgt_vocab


def worker(proc_index, args, local_procs=1):
    """Entry point of one training process (also used for the single-process case). Returns the signal
    number that stopped training early, or 0."""
    if distributed.launched_by_torchrun():
        placement = distributed.torchrun_placement(args)
    else:
        placement = distributed.local_placement(args, proc_index)
    if placement.device == "cpu":
        if not args.fsdp:
            keep_freed_memory()
        if local_procs > 1:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_procs))
    if local_procs > 1:
        return _child(placement, args)
    return _run(placement, args)


def _run(placement, args):
    distributed.init(placement, args.dist_timeout)
    try:
        return train(args, placement)
    finally:
        distributed.shutdown(placement)


def _child(placement, args):
    """A process started by launch(): errors end it with one line and an exit status, not a traceback; it
    leaves through distributed.leave once its work is saved."""
    status = 0
    try:
        _run(placement, args)
    except (UserInputError, RunFailure) as e:
        print(f"error: {e}", file=sys.stderr)
        status = 2 if isinstance(e, UserInputError) else 1
    distributed.leave(status)


RUN_FLAGS = ("target", "embedding", "encoder", "batch_size", "accumulation_steps", "seed", "instances_buffer_size",
             "fsdp", "optimizer", "scheduler", "use_lora")


def run_identity(args, dataset, placement):
    """What must not change between a stopped run and its resumption."""
    ident = {k: getattr(args, k) for k in RUN_FLAGS}
    ident.update(world_size=placement.world_size, dataset_instances=len(dataset))
    return ident


def find_resume_point(args, placement):
    """(step, model path) to resume from, or None; every process must see the same checkpoint."""
    found = latest_checkpoint(args.output_model_path) if args.resume else None
    if placement.distributed and args.resume:
        seen = torch.tensor([found[0] if found else -1], device=placement.device)  # nccl reduces GPU tensors
        lowest, highest = (distributed.all_reduce_max(t, placement) for t in (-seen.clone(), seen.clone()))
        if -int(lowest) != int(highest):
            raise RunFailure(f"rank {placement.rank}: --resume: this node's newest checkpoint of "
                             f"{args.output_model_path} is step {int(seen)}, another node's is step {int(highest)}; "
                             "keep checkpoints on a filesystem every node shares")
    if args.resume and found is None and placement.is_master:
        print(f"--resume: no checkpoint {args.output_model_path}-STEP with its {SUFFIX} file yet; starting at "
              "step 0", flush=True)
    return found


def train(args, placement):
    dataset, model = prepare(args, placement)
    device = torch.device(placement.device)
    resume = find_resume_point(args, placement)
    if resume and not (args.fsdp and not placement.is_master):  # under --fsdp the master's weights are sent
        load_adapters(model, resume[1]) if args.use_lora else load_exact(model, resume[1])
    if not args.fsdp:
        model.to(device)
    precision = Precision(args.fp16, args.fp16_opt_level, device)
    if args.fsdp:
        if not placement.distributed:
            raise UserInputError("--fsdp shards the model over several processes; with one, drop it (or start "
                                 "several: --world_size/--gpu_ranks, or torchrun)")
        model = sharding.shard(model, units_to_shard(model, args), placement, precision)
    elif placement.distributed:
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if args.compile:  # after sharding: FSDP's hooks are part of what is compiled
        compile_model(unwrap(model), device)
    accumulation = max(1, args.accumulation_steps)
    optimizer, scheduler = build_optimizer(model, args, max(1, args.total_steps // accumulation))
    loader = BatchLoader(dataset, args.batch_size, placement.rank, placement.world_size, args.seed,
                         args.instances_buffer_size, device)
    torch.manual_seed(args.seed + placement.rank)  # dropout differs between processes
    session = Session(args, placement, model, optimizer, scheduler, precision, loader,
                      run_identity(args, dataset, placement))
    start = session.restore(*resume) if resume else 0
    reporter = Reporter(args.batch_size, args.seq_length, placement.world_size, args.total_steps)
    metrics = MetricsLog(default_metrics_path(args), args.tensorboard_dir, start if resume else None,
                         enabled=placement.is_master)
    model.train()
    bar = StepBar(args, placement, start)
    with StopSignals() as stop, metrics, bar:
        try:
            for step in range(start + 1, args.total_steps + 1):
                sync = step % accumulation == 0 or step == args.total_steps
                batch = next(loader)
                parts = train_step(model, batch, placement, precision, accumulation, sync, args.fsdp)
                if sync:
                    precision.step(optimizer)
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                reporter.add(parts, batch[2])
                bar.advance(step)
                if (step % args.report_steps == 0 or step == args.total_steps) and placement.is_master:
                    report(reporter, metrics, step, scheduler.get_last_lr()[0], precision)
                signum = stop.agreed(placement, device) if sync else 0
                if step % args.save_checkpoint_steps == 0 or step == args.total_steps or signum:
                    session.checkpoint(step)
                if signum:
                    if placement.is_master:
                        write(f"stopped at step {step} by {signal.Signals(signum).name}; continue with the same "
                              "command plus --resume")
                    return signum
        except (dist.DistError, RuntimeError) as e:
            if placement.distributed and distributed.is_peer_failure(e):
                raise distributed.lost_peer(e, placement) from None
            raise
    return 0


def report(reporter, metrics, step, lr, precision):
    """UER's report line (every --report_steps steps, and at the last step) and its metrics record."""
    figures = reporter.figures(step, lr)
    if precision.scaler.is_enabled():
        figures["loss_scale"] = precision.scaler.get_scale()
    write(reporter.line(figures))
    metrics.log("train", figures)


class StepBar:
    """The master's progress over the steps (steps, tokens/s, time left), on stderr below the report lines."""

    def __init__(self, args, placement, start):
        self.tokens_per_step = args.batch_size * args.seq_length * placement.world_size
        self.start, self.began = start, time.perf_counter()
        self.bar = progress(total=args.total_steps, initial=start, desc="pre-training", unit="step",
                            disable=not placement.is_master)

    def advance(self, step):
        tokens_per_s = (step - self.start) * self.tokens_per_step / max(time.perf_counter() - self.began, 1e-9)
        self.bar.set_postfix_str(f"{tokens_per_s:.0f} tokens/s", refresh=False)
        self.bar.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()


def train_step(model, batch, placement, precision, accumulation, sync, sharded=False):
    src, tgt, seg = batch
    if sharded:
        sharding.gradient_sync(model, sync)
    no_sync = model.no_sync() if placement.distributed and not sync and not sharded else contextlib.nullcontext()
    with no_sync:
        with precision.autocast():
            parts = model(src, tgt, seg)
        loss = normalized_loss(parts, placement) / accumulation
        precision.backward(loss)
    return parts


class Session:
    """Writes checkpoints with their training state and restores both for --resume."""

    def __init__(self, args, placement, model, optimizer, scheduler, precision, loader, identity):
        self.args, self.placement, self.model, self.loader = args, placement, model, loader
        self.optimizer, self.scheduler, self.precision, self.identity = optimizer, scheduler, precision, identity

    def checkpoint(self, step):
        """Every process calls this (the RNG states are gathered; under --fsdp the weights too, and each writes
        its optimizer shards); the master writes the state, then the model."""
        cpu, cuda = torch_rng(self.placement.device)
        rng_cpu, rng_cuda = distributed.all_gather(cpu, self.placement), distributed.all_gather(cuda, self.placement)
        path = f"{self.args.output_model_path}-{step}"
        weights = sharding.full_state_dict(self.model) if self.args.fsdp else None
        optimization = optimization_state(self.optimizer, self.scheduler, self.precision, self.shards(path))
        if not self.placement.is_master:
            return
        save_state(state_path(path), {
            "step": step, "run": self.identity, "data_position": self.loader.position,
            "rng_cpu": rng_cpu, "rng_cuda": rng_cuda, **optimization})
        atomic_torch_save(weights, path) if self.args.fsdp else save_model(self.model, path)
        drop_older_states(self.args.output_model_path, step)

    def shards(self, model_path):
        """Where the optimizer state is sharded (--fsdp): (model, checkpoint path); else None."""
        return (self.model, model_path) if self.args.fsdp else None

    def restore(self, step, model_path):
        """Optimizer, scheduler, scaler, data position and this process's RNG state of checkpoint `step`
        (the weights were loaded before the model was placed); returns the step."""
        path = state_path(model_path)
        state = load_state(path)
        check_same_run(state["run"], self.identity, path)
        if self.args.total_steps <= step:
            raise UserInputError(f"{model_path}: the run already reached step {step}; raise --total_steps to "
                                 "train further")
        restore_optimization(state, self.optimizer, self.scheduler, self.precision, path, self.shards(model_path))
        self.loader.position = state["data_position"]
        rank = self.placement.rank
        set_torch_rng(state["rng_cpu"][rank], state["rng_cuda"][rank], self.placement.device)
        if self.placement.is_master:
            print(f"resuming from {model_path} (step {step})", flush=True)
        return step


def launch(args):
    """Start the processes this node should run and train; returns the signal number that stopped training
    early, or 0."""
    local_procs = distributed.check_layout(args) if not distributed.launched_by_torchrun() else 1
    if local_procs <= 1:
        return worker(0, args)
    import torch.multiprocessing as mp
    context = mp.spawn(worker, args=(args, local_procs), nprocs=local_procs, join=False)
    with ForwardSignals(context.processes) as forwarded:
        try:
            while not context.join():
                pass
        except mp.ProcessExitedException as e:
            raise RunFailure(describe_exit(e, args)) from None
    return forwarded.signum


def describe_exit(e, args):
    rank = args.gpu_ranks[e.error_index]
    how = f"was killed by {e.signal_name}" if e.signal_name else f"exited with status {e.exit_code}"
    return f"training process of rank {rank} {how}; the other processes of this node were stopped"
