"""The fine-tuning loop every run_*.py shares, over the one runtime (uer/runtime/): train by epochs, evaluate on dev
after each, keep the best model, evaluate the test set with it. Each task supplies its loss, its prediction and
its metric."""
import math
import os
import sys

import numpy as np
import torch

from uer.core.errors import Stopped
from uer.finetune.adversarial import build_adversary, word_table
from uer.finetune.data import training_batches
from uer.monitor.progress import progress, write
from uer.optim.optimizers import build_optimizer
from uer.runtime.resumable import RollingState
from uer.runtime.runtime import Runtime
from uer.runtime.signals import StopSignals
from uer.runtime.training_state import numpy_rng_state
from uer.finetune.position import Position, identity, resumed_position, saved_position

# Weights a pre-trained checkpoint does not have (task heads) or has but fine-tuning drops (pre-training targets).
HEAD_PREFIXES = ("target.", "output_layer")


class FineTuner:
    def __init__(self, args, model_class, vocab, keep_heads=False, **facts):
        """Builds model_class(args, len(vocab), vocab, **facts) (facts: what the task found, such as labels_num),
        prepared and placed by the runtime (under torchrun the processes train together). keep_heads: the task
        predicts with the pre-trained output layer (text-to-text, prompts), so it is loaded."""
        self.args, self.runtime = args, Runtime.for_fine_tuning(args)
        model = self.runtime.build(lambda: model_class(args, len(vocab), vocab, **facts), args.seed)
        self.loaded = self.runtime.prepare(model, (() if keep_heads else HEAD_PREFIXES) +
                                           getattr(model, "copied_after_loading", ()))
        self.model = self.runtime.place(model)
        if self.runtime.distributed:
            torch.manual_seed(args.seed + self.runtime.placement.rank)  # dropout differs between processes
        self.adversary = build_adversary(args)
        self.word_table = word_table(self.model) if self.adversary else None
        if self.adversary and self.runtime.is_master:
            print(f"adversarial training: {self.adversary}", file=sys.stderr, flush=True)

    def run(self, train_set, dev_set, test_set, loss_of, evaluate):
        """loss_of(model, examples, indices, src, seg) -> scalar loss; evaluate(model, examples, name) -> dict of
        figures, the first of which is the score (higher is better). Returns the best dev score. With --resume,
        continues from OUTPUT_MODEL_PATH.resume (written after each epoch and when a signal stops training)."""
        args, model, runtime = self.args, self.model, self.runtime
        self.total = math.ceil(len(train_set) / (args.batch_size * runtime.size)) * args.epochs_num
        self.optimizer, self.scheduler = build_optimizer(model, args, self.total)
        resume = RollingState(runtime, model, self.optimizer, self.scheduler, identity(args, runtime, len(train_set)),
                              args.output_model_path + ".resume")
        resumed = args.resume and os.path.exists(resume.path)
        at = resumed_position(resume, args.seed) if args.resume else Position(np.random.default_rng(args.seed))
        self.metrics = self.runtime.metrics(at.step if resumed else None)
        with StopSignals() as stop, self.metrics:
            while at.epoch <= args.epochs_num:
                self.train_epoch(at, train_set, loss_of, stop, resume)
                score = self.evaluate(evaluate, dev_set, "dev", at.epoch, at.step)
                if score > at.best:
                    at.best = score
                    runtime.save(model, args.output_model_path)
                    print(f"epoch {at.epoch}: best dev so far, saved {args.output_model_path}", flush=True)
                at.epoch, at.batch = at.epoch + 1, 0
                resume.save(saved_position(at, numpy_rng_state(at.rng), 0))
                if runtime.stop_agreed(stop) and at.epoch <= args.epochs_num:
                    raise Stopped(stop.signum, f"stopped after epoch {at.epoch - 1}; saved {resume.path}: "
                                               "continue with the same command plus --resume")
            if test_set is not None:
                runtime.load(model, args.output_model_path)
                self.evaluate(evaluate, test_set, "test", args.epochs_num, at.step)
        resume.remove()
        return at.best

    def assess(self, evaluate, named_sets):
        """Evaluation without training (zero-shot): each (split, examples) not None, figures to the metrics file;
        returns {split: score}."""
        self.metrics = self.runtime.metrics(None)
        with self.metrics:
            return {split: self.evaluate(evaluate, examples, split, 0, 0) for split, examples in named_sets
                    if examples is not None}

    def evaluate(self, evaluate, examples, split, epoch, step):
        """Runs the task's evaluation, logs its figures; returns the score."""
        with self.runtime.evaluating(self.model) as model:
            figures = evaluate(model, examples, split)
        self.metrics.log(split, {"epoch": epoch, "step": step, **figures})
        return next(iter(figures.values()))

    def train_epoch(self, at, train_set, loss_of, stop, resume):
        """The rest of epoch at.epoch from batch at.batch; on a signal, saves the position and raises Stopped."""
        args, runtime = self.args, self.runtime
        epoch_rng = numpy_rng_state(at.rng)
        batches = training_batches(train_set.length, args.batch_size * runtime.size, at.rng,
                                   groups=train_set.fields.get("task"))
        self.model.train()
        running, reports = 0.0, 0
        bar = progress(total=len(batches), initial=at.batch, desc=f"epoch {at.epoch}/{args.epochs_num}",
                       unit="batch")
        for k in range(at.batch, len(batches)):
            reported = self.learn(train_set, batches[k], loss_of)
            runtime.precision.step(self.optimizer)
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            at.step += 1
            bar.update(1)
            running, reports = running + reported.item(), reports + 1
            if at.step % args.report_steps == 0 or at.step == self.total:
                self.report(at, running / reports)
                running, reports = 0.0, 0
            if runtime.stop_agreed(stop) and k + 1 < len(batches):
                bar.close()
                resume.save(saved_position(at, epoch_rng, k + 1))
                raise Stopped(stop.signum, f"stopped in epoch {at.epoch} after step {at.step}; saved "
                                           f"{resume.path}: continue with the same command plus --resume")
        bar.close()

    def learn(self, train_set, batch, loss_of):
        """The forward and backward passes of this process's share of a batch (and with --use_adv those of the
        attack); returns the whole batch's loss, to report."""
        indices, holds_examples = self.runtime.share(batch)
        src, seg = train_set.batch(indices, self.runtime.device)
        precision = self.runtime.precision

        def backward():
            with precision.autocast():
                loss = loss_of(self.model, train_set, indices, src, seg)
            loss, count = loss if isinstance(loss, tuple) else (loss, len(indices))  # (mean, items it averages)
            loss, reported = self.runtime.normalize(loss, count if holds_examples else 0)
            precision.backward(loss)
            return reported
        reported = backward()
        if self.adversary:
            self.adversary.attack(self.model, self.word_table, backward)
        return reported

    def report(self, at, loss):
        lr = self.scheduler.get_last_lr()[0]
        write(f"epoch {at.epoch}/{self.args.epochs_num} step {at.step}/{self.total} | loss {loss:.4f} | lr {lr:.2e}")
        self.metrics.log("train", {"epoch": at.epoch, "step": at.step, "loss": loss, "lr": lr})


def fine_tune_task(args, model_class, vocab, read, loss_of, make_evaluator, **facts):
    """Read --train_path/--dev_path/--test_path with `read`, then fine-tune a model_class model (with the task's
    facts); make_evaluator(runtime) gives the task's evaluate function."""
    train, dev, test = (read(path) if path else None for path in (args.train_path, args.dev_path, args.test_path))
    print(train.describe("training"), flush=True)
    tuner = FineTuner(args, model_class, vocab, **facts)
    return tuner.run(train, dev, test, loss_of, make_evaluator(tuner.runtime))
