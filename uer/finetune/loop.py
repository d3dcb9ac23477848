"""The fine-tuning loop every run_*.py shares: train by epochs, evaluate on dev after each, keep the best model,
evaluate the test set with it. Each task supplies its loss, its prediction and its metric."""
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn

from uer.finetune.data import training_batches, evaluation_batches
from uer.model_loader import load_model
from uer.model_saver import save_model, unwrap
from uer.utils.optimizers import build_optimizer
from uer.utils.precision import Precision

# Weights a pre-trained checkpoint does not have (task heads) or has but fine-tuning drops (pre-training targets).
HEAD_PREFIXES = ("target.", "output_layer")


def place(model, parallel=True):
    """Model on the first GPU, replicated over all visible GPUs (CUDA_VISIBLE_DEVICES scopes them) unless
    parallel is False (for callers that use more than forward()), or on CPU."""
    if not torch.cuda.is_available():
        return model, torch.device("cpu")
    device = torch.device("cuda", 0)
    model.to(device)
    if parallel and torch.cuda.device_count() > 1:
        print(f"using {torch.cuda.device_count()} GPUs", file=sys.stderr)
        model = nn.DataParallel(model)
    return model, device


def seconds(s):
    return f"{int(s // 60)}m{int(s % 60):02d}s"


def predict(model, examples, batch_size, device, outputs):
    """outputs(model, examples, indices, src, seg) -> per-example tensor rows; returned in input order."""
    model.eval()
    result = [None] * len(examples)
    with torch.no_grad():
        for indices in evaluation_batches(examples.length, batch_size):
            src, seg = examples.batch(indices, device)
            rows = outputs(model, examples, indices, src, seg)
            for i, row in zip(indices, rows):
                result[i] = row
    return result


class FineTuner:
    def __init__(self, args, model_class, vocab):
        """Builds model_class(args, len(vocab), vocab) after seeding, so --seed fixes the initial weights too."""
        torch.manual_seed(args.seed)
        model = model_class(args, len(vocab), vocab)
        self.args = args
        if args.pretrained_model_path:
            load_model(model, args.pretrained_model_path, ignore_prefixes=HEAD_PREFIXES)
        self.model, self.device = place(model)
        self.precision = Precision(args.fp16, args.fp16_opt_level, self.device)

    def run(self, train_set, dev_set, test_set, loss_of, evaluate):
        """loss_of(model, examples, indices, src, seg) -> scalar loss; evaluate(model, examples, name) -> score
        (higher is better). Returns the best dev score."""
        args, model = self.args, self.model
        rng = np.random.default_rng(args.seed)
        steps_per_epoch = math.ceil(len(train_set) / args.batch_size)
        total = steps_per_epoch * args.epochs_num
        optimizer, scheduler = build_optimizer(model, args, total)
        best, start, step = -math.inf, time.perf_counter(), 0
        for epoch in range(1, args.epochs_num + 1):
            model.train()
            running, count = 0.0, 0
            for indices in training_batches(train_set.length, args.batch_size, rng,
                                            groups=train_set.fields.get("task")):
                src, seg = train_set.batch(indices, self.device)
                with self.precision.autocast():
                    loss = loss_of(model, train_set, indices, src, seg)
                self.precision.backward(loss)
                self.precision.step(optimizer)
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                running, count = running + loss.item(), count + 1
                if step % args.report_steps == 0 or step == total:
                    elapsed = time.perf_counter() - start
                    print(f"epoch {epoch}/{args.epochs_num} step {step}/{total} | loss {running / count:.4f} | "
                          f"{seconds(elapsed)} elapsed, ~{seconds(elapsed / step * (total - step))} left", flush=True)
                    running, count = 0.0, 0
            score = evaluate(model, dev_set, "dev")
            if score > best:
                best = score
                save_model(model, args.output_model_path)
                print(f"epoch {epoch}: best dev so far, saved {args.output_model_path}", flush=True)
        if test_set is not None:
            load_model(unwrap(model), args.output_model_path)
            evaluate(model, test_set, "test")
        return best


def fine_tune_task(args, model_class, vocab, read, loss_of, make_evaluator):
    """Read --train_path/--dev_path/--test_path with `read`, then fine-tune a model_class model;
    make_evaluator(device) gives the task's evaluate function."""
    train, dev, test = (read(path) if path else None for path in (args.train_path, args.dev_path, args.test_path))
    print(f"{len(train)} training examples", flush=True)
    tuner = FineTuner(args, model_class, vocab)
    return tuner.run(train, dev, test, loss_of, make_evaluator(tuner.device))
