"""Pre-training loop: one function per process, CPU / one GPU / DDP over torch.distributed."""
import contextlib
import os

import torch
from torch.nn.parallel import DistributedDataParallel

from uer.model_builder import build_model
from uer.model_loader import load_model
from uer.model_saver import save_model
from uer.utils import distributed
from uer.utils.optimizers import build_optimizer
from uer.utils.precision import Precision
from uer.utils.pretrain_data import PretrainDataset, BatchLoader
from uer.utils.errors import UserInputError
from uer.utils.report import Reporter
from uer.utils.tokenizers import load_vocab


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


def prepare(args):
    vocab, _ = load_vocab(args)
    dataset = PretrainDataset(args.dataset_path)
    dataset.check(args.target, vocab, args.span_masking, (args.span_geo_prob, args.span_max_length))
    if args.target == "cls":
        args.labels_num = dataset.header["labels_num"]
    args.seq_length = dataset.header["seq_length"]
    if args.embedding == "bert" and args.seq_length > args.max_seq_length:
        raise UserInputError(f"{args.dataset_path} has seq_length {args.seq_length}, longer than the position "
                             f"embedding ({args.max_seq_length} positions, config max_seq_length)")
    torch.manual_seed(args.seed)
    model = build_model(args, len(vocab), vocab)
    if args.pretrained_model_path:
        load_model(model, args.pretrained_model_path, ignore_prefixes=("target.",))
    return dataset, model


def worker(proc_index, args, local_procs=1):
    """Entry point of one training process (also used for the single-process case)."""
    if distributed.launched_by_torchrun():
        placement = distributed.torchrun_placement(args)
    else:
        placement = distributed.local_placement(args, proc_index)
    if placement.device == "cpu" and local_procs > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_procs))
    distributed.init(placement)
    try:
        train(args, placement)
    finally:
        distributed.shutdown(placement)


def train(args, placement):
    dataset, model = prepare(args)
    device = torch.device(placement.device)
    model.to(device)
    if placement.distributed:
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    accumulation = max(1, args.accumulation_steps)
    optimizer, scheduler = build_optimizer(model, args, max(1, args.total_steps // accumulation))
    precision = Precision(args.fp16, args.fp16_opt_level, device)
    loader = BatchLoader(dataset, args.batch_size, placement.rank, placement.world_size, args.seed,
                         args.instances_buffer_size, device)
    torch.manual_seed(args.seed + placement.rank)  # dropout differs between processes
    reporter = Reporter(args.batch_size, args.seq_length, placement.world_size, args.total_steps)
    model.train()
    for step in range(1, args.total_steps + 1):
        src, tgt, seg = next(loader)
        sync = step % accumulation == 0 or step == args.total_steps
        no_sync = model.no_sync() if placement.distributed and not sync else contextlib.nullcontext()
        with no_sync:
            with precision.autocast():
                parts = model(src, tgt, seg)
            loss = normalized_loss(parts, placement) / accumulation
            precision.backward(loss)
        if sync:
            precision.step(optimizer)
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        reporter.add(parts, seg)
        if step % args.report_steps == 0 and placement.is_master:
            print(reporter.line(step, scheduler.get_last_lr()[0], placement.world_size), flush=True)
        if placement.is_master and (step % args.save_checkpoint_steps == 0 or step == args.total_steps):
            save_model(model, f"{args.output_model_path}-{step}")


def launch(args):
    """Start the processes this node should run and train."""
    local_procs = distributed.check_layout(args) if not distributed.launched_by_torchrun() else 1
    if local_procs <= 1:
        worker(0, args)
        return
    import torch.multiprocessing as mp
    mp.spawn(worker, args=(args, local_procs), nprocs=local_procs, join=True)
