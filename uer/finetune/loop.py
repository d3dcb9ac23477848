"""The fine-tuning loop every run_*.py shares: train by epochs, evaluate on dev after each, keep the best model,
evaluate the test set with it. Each task supplies its loss, its prediction and its metric."""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from uer.finetune.adversarial import build_adversary, word_table
from uer.finetune.data import training_batches, evaluation_batches
from uer.finetune import parallel
from uer.finetune.parallel import Team
from uer.model_builder import recompute_layers_in_backward
from uer.runtime.adapters import adapt_pretrained
from uer.model_loader import load_model
from uer.model_saver import unwrap
from uer.optim.optimizers import build_optimizer
from uer.core.errors import Stopped
from uer.runtime import sharding
from uer.runtime.compile import compile_model
from uer.runtime.memory import keep_freed_memory
from uer.monitor.metrics import MetricsLog, default_metrics_path
from uer.monitor.progress import progress, write
from uer.runtime.precision import Precision
from uer.runtime.signals import StopSignals
from uer.runtime.training_state import (save_state, load_state, torch_rng, set_torch_rng, numpy_rng_state,
                                              numpy_rng_from, check_same_run, optimization_state,
                                              restore_optimization)

# Weights a pre-trained checkpoint does not have (task heads) or has but fine-tuning drops (pre-training targets).
HEAD_PREFIXES = ("target.", "output_layer")


def place(model, parallel=True):
    """Model on the first GPU, replicated over all visible GPUs (CUDA_VISIBLE_DEVICES scopes them) unless
    parallel is False (for callers that use more than forward()), or on CPU."""
    if not torch.cuda.is_available():
        keep_freed_memory()
        return model, torch.device("cpu")
    device = torch.device("cuda", 0)
    model.to(device)
    if parallel and torch.cuda.device_count() > 1:
        print(f"using {torch.cuda.device_count()} GPUs", file=sys.stderr)
        model = nn.DataParallel(model)
    else:
        print(f"running on GPU {torch.cuda.get_device_name(0)}", file=sys.stderr)
    return model, device


def predict(model, examples, batch_size, device, outputs, desc="predicting"):
    """outputs(model, examples, indices, src, seg) -> per-example rows; returned in input order. In a team of
    processes each predicts every size-th batch and all get every row."""
    model.eval()
    team = parallel.current()
    result = [None] * len(examples)
    batches = team.evaluation_share(evaluation_batches(examples.length, batch_size))
    with torch.no_grad():
        for indices in progress(batches, desc=desc, unit="batch"):
            src, seg = examples.batch(indices, device)
            rows = outputs(model, examples, indices, src, seg)
            for i, row in zip(indices, rows):
                result[i] = row
    return team.gathered(result)


def mean_and_count(loss, examples_num):
    """A task's loss is the mean over the batch's examples, or (mean, count) when it averages other items
    (tokens): how much of the batch a process's share is."""
    return loss if isinstance(loss, tuple) else (loss, examples_num)


class FineTuner:
    def __init__(self, args, model_class, vocab, keep_heads=False):
        """Builds model_class(args, len(vocab), vocab) after seeding, so --seed fixes the initial weights too.
        keep_heads: the task predicts with the pre-trained output layer (text-to-text, prompts), so it is loaded.
        Under torchrun the processes train together (uer/finetune/parallel.py)."""
        self.args, self.team, self.loaded = args, Team.join(args), None
        torch.manual_seed(args.seed)
        with self.team.building_device():
            model = model_class(args, len(vocab), vocab)
        if getattr(args, "gradient_checkpointing", False):
            recompute_layers_in_backward(model)
        ignored = (() if keep_heads else HEAD_PREFIXES) + getattr(model, "copied_after_loading", ())
        if args.pretrained_model_path:
            self.loaded = load_model(model, args.pretrained_model_path, ignore_prefixes=ignored)
            getattr(model, "pretrained_loaded", lambda: None)()  # a model may start parts of it from the others
        if getattr(args, "use_lora", False):
            add_adapters(model, args, ignored, self.loaded)
        if self.team.distributed:
            self.device = torch.device(self.team.placement.device)
            if self.device.type == "cpu" and not self.team.fsdp:
                keep_freed_memory()
            self.precision = Precision(args.fp16, args.fp16_opt_level, self.device)
            self.model = self.team.wrap(model, args, self.precision)
            torch.manual_seed(args.seed + self.team.placement.rank)  # dropout differs between processes
        else:
            self.model, self.device = place(model)
            self.precision = Precision(args.fp16, args.fp16_opt_level, self.device)
        if getattr(args, "compile", False):
            compile_model(unwrap(self.model), self.device)
        self.adversary = build_adversary(args)
        self.word_table = word_table(self.model) if self.adversary else None
        if self.adversary and self.team.is_master:
            print(f"adversarial training: {self.adversary}", file=sys.stderr, flush=True)

    def run(self, train_set, dev_set, test_set, loss_of, evaluate):
        """loss_of(model, examples, indices, src, seg) -> scalar loss; evaluate(model, examples, name) -> dict of
        figures, the first of which is the score (higher is better). Returns the best dev score. With --resume,
        continues from OUTPUT_MODEL_PATH.resume (written after each epoch and when a signal stops training)."""
        args, model, team = self.args, self.model, self.team
        self.total = math.ceil(len(train_set) / (args.batch_size * team.size)) * args.epochs_num
        optimizer, scheduler = build_optimizer(model, args, self.total)
        self.optimizer, self.scheduler = optimizer, scheduler
        resume = ResumeFile(args, team, model, optimizer, scheduler, self.precision, self.device,
                            {"batch_size": args.batch_size, "seed": args.seed, "train_examples": len(train_set),
                             "processes": team.size, "fsdp": team.fsdp, "optimizer": args.optimizer,
                             "scheduler": args.scheduler, "use_lora": args.use_lora})
        resumed = args.resume and resume.exists()
        at = resume.restore() if args.resume else Position(np.random.default_rng(args.seed))
        self.metrics = MetricsLog(default_metrics_path(args), args.tensorboard_dir, at.step if resumed else None,
                                  enabled=team.is_master)
        with StopSignals() as stop, self.metrics:
            while at.epoch <= args.epochs_num:
                self.train_epoch(at, train_set, loss_of, stop, resume)
                score = self.evaluate(evaluate, dev_set, "dev", at.epoch, at.step)
                if score > at.best:
                    at.best = score
                    team.save(model, args.output_model_path)
                    print(f"epoch {at.epoch}: best dev so far, saved {args.output_model_path}", flush=True)
                at.epoch, at.batch = at.epoch + 1, 0
                resume.save(at, numpy_rng_state(at.rng), 0)
                if stop.agreed(team.placement, self.device) and at.epoch <= args.epochs_num:
                    raise Stopped(stop.signum, f"stopped after epoch {at.epoch - 1}; saved {resume.path}: "
                                               "continue with the same command plus --resume")
            if test_set is not None:
                team.load(model, args.output_model_path)
                self.evaluate(evaluate, test_set, "test", args.epochs_num, at.step)
        resume.remove()
        return at.best

    def assess(self, evaluate, named_sets):
        """Evaluation without training (zero-shot): each (split, examples) not None, figures to the metrics file;
        returns {split: score}."""
        self.metrics = MetricsLog(default_metrics_path(self.args), self.args.tensorboard_dir, None,
                                  enabled=self.team.is_master)
        with self.metrics:
            return {split: self.evaluate(evaluate, examples, split, 0, 0) for split, examples in named_sets
                    if examples is not None}

    def evaluate(self, evaluate, examples, split, epoch, step):
        """Runs the task's evaluation, logs its figures; returns the score."""
        with self.team.evaluating(self.model) as model:
            figures = evaluate(model, examples, split)
        self.metrics.log(split, {"epoch": epoch, "step": step, **figures})
        return next(iter(figures.values()))

    def train_epoch(self, at, train_set, loss_of, stop, resume):
        """The rest of epoch at.epoch from batch at.batch; on a signal, saves the position and raises Stopped."""
        args, model, team = self.args, self.model, self.team
        epoch_rng = numpy_rng_state(at.rng)
        batches = training_batches(train_set.length, args.batch_size * team.size, at.rng,
                                   groups=train_set.fields.get("task"))
        model.train()
        running, reports = 0.0, 0
        bar = progress(total=len(batches), initial=at.batch, desc=f"epoch {at.epoch}/{args.epochs_num}",
                       unit="batch")
        for k in range(at.batch, len(batches)):
            reported = self.learn(train_set, batches[k], loss_of)
            self.precision.step(self.optimizer)
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            at.step += 1
            bar.update(1)
            running, reports = running + reported.item(), reports + 1
            if at.step % args.report_steps == 0 or at.step == self.total:
                self.report(at, running / reports)
                running, reports = 0.0, 0
            if stop.agreed(team.placement, self.device) and k + 1 < len(batches):
                bar.close()
                resume.save(at, epoch_rng, k + 1)
                raise Stopped(stop.signum, f"stopped in epoch {at.epoch} after step {at.step}; saved "
                                           f"{resume.path}: continue with the same command plus --resume")
        bar.close()

    def learn(self, train_set, batch, loss_of):
        """The forward and backward passes of this process's share of a batch (and with --use_adv those of the
        attack); returns the whole batch's loss, to report."""
        indices, holds_examples = self.team.share(batch)
        src, seg = train_set.batch(indices, self.device)

        def backward():
            with self.precision.autocast():
                loss, count = mean_and_count(loss_of(self.model, train_set, indices, src, seg), len(indices))
            loss, reported = self.team.normalize(loss, count if holds_examples else 0)
            self.precision.backward(loss)
            return reported
        reported = backward()
        if self.adversary:
            self.adversary.attack(self.model, self.word_table, backward)
        return reported

    def report(self, at, loss):
        lr = self.scheduler.get_last_lr()[0]
        write(f"epoch {at.epoch}/{self.args.epochs_num} step {at.step}/{self.total} | loss {loss:.4f} | lr {lr:.2e}")
        self.metrics.log("train", {"epoch": at.epoch, "step": at.step, "loss": loss, "lr": lr})


def add_adapters(model, args, ignored, loaded):
    """--use_lora: adapters on the pre-trained model, only they and the task head train."""
    trained = adapt_pretrained(model, args, loaded, ignored)
    total = sum(p.numel() for p in model.parameters())
    print(f"LoRA: {trained:,} of {total:,} weights train ({100 * trained / total:.2f}%): the adapters (r "
          f"{args.lora_r}) and the task head", file=sys.stderr, flush=True)


class Position:
    """Where training is: epoch (1-based), batches of it done, optimizer steps, best dev score so far, and the
    generator that orders the batches."""

    def __init__(self, rng, epoch=1, batch=0, step=0, best=-math.inf):
        self.rng, self.epoch, self.batch, self.step, self.best = rng, epoch, batch, step, best


class ResumeFile:
    """OUTPUT_MODEL_PATH.resume: the current (not the best) weights with the optimizer, scheduler, scaler,
    position and RNG states (of every process in a team); one file, written atomically by the master, so it is
    always complete. Under --fsdp the optimizer's shards of the K-th save are in OUTPUT_MODEL_PATH.resume-K.optimizer/,
    which the file names: the shards a file names are never rewritten, and older ones go once the new file is
    written."""

    def __init__(self, args, team, model, optimizer, scheduler, precision, device, identity):
        self.path, self.team = args.output_model_path + ".resume", team
        self.model, self.optimizer, self.scheduler, self.precision = model, optimizer, scheduler, precision
        self.device, self.identity = device, identity
        self.saves = 0

    def shards(self, saves):
        return (self.model, f"{self.path}-{saves}") if self.team.fsdp else None

    def save(self, at, epoch_rng, batch):
        """Every process of the team calls this."""
        rng_cpu, rng_cuda = torch_rng(self.device)
        if self.team.distributed:
            rng_cpu, rng_cuda = self.team.gather_all(rng_cpu), self.team.gather_all(rng_cuda)
        weights = self.team.weights(self.model)
        self.saves += 1
        if self.team.fsdp and self.team.is_master:
            sharding.drop_optimizer(self.shards(self.saves)[1])  # left by a run stopped while writing them
        self.team.barrier()
        optimization = optimization_state(self.optimizer, self.scheduler, self.precision, self.shards(self.saves))
        if self.team.is_master:
            save_state(self.path, {
                "step": at.step, "epoch": at.epoch, "batch": batch, "epoch_rng": epoch_rng, "best": at.best,
                "run": self.identity, "model": weights, "rng_cpu": rng_cpu, "rng_cuda": rng_cuda, "saves": self.saves,
                **optimization})
            sharding.drop_numbered_optimizers(self.path, keep=self.saves)
        self.team.barrier()

    def exists(self):
        return os.path.exists(self.path)

    def restore(self):
        if not self.exists():
            print(f"--resume: no {self.path} yet; starting at epoch 1", flush=True)
            return Position(np.random.default_rng(self.identity["seed"]))
        state = load_state(self.path)
        check_same_run(state["run"], self.identity, self.path)
        self.team.load_weights(self.model, state["model"])
        self.saves = state.get("saves", 0)
        restore_optimization(state, self.optimizer, self.scheduler, self.precision, self.path,
                             self.shards(self.saves))
        rng_cpu, rng_cuda = state["rng_cpu"], state["rng_cuda"]
        if self.team.distributed:
            rng_cpu, rng_cuda = rng_cpu[self.team.placement.rank], rng_cuda[self.team.placement.rank]
        set_torch_rng(rng_cpu, rng_cuda, self.device)
        print(f"resuming from {self.path}: epoch {state['epoch']}, step {state['step']}", flush=True)
        return Position(numpy_rng_from(state["epoch_rng"]), state["epoch"], state["batch"], state["step"],
                        state["best"])

    def remove(self):
        self.team.barrier()  # every process has read it
        if self.team.is_master:
            if os.path.exists(self.path):
                os.unlink(self.path)
            sharding.drop_numbered_optimizers(self.path)


def fine_tune_task(args, model_class, vocab, read, loss_of, make_evaluator):
    """Read --train_path/--dev_path/--test_path with `read`, then fine-tune a model_class model;
    make_evaluator(device) gives the task's evaluate function."""
    train, dev, test = (read(path) if path else None for path in (args.train_path, args.dev_path, args.test_path))
    print(train.describe("training"), flush=True)
    tuner = FineTuner(args, model_class, vocab)
    return tuner.run(train, dev, test, loss_of, make_evaluator(tuner.device))
