"""The optimizer of UER-py's recipes: Adam without bias correction (BERT's), linear warm-up then linear decay;
or, by --optimizer and --scheduler, the successor's Adafactor and its other schedules.

UER-py trains with AdamW(correct_bias=False): p -= lr * m / (sqrt(v) + eps), m and v the raw moving averages,
eps 1e-6; its later versions decay weights by lr * 0.01 (not bias/gamma/beta); the 2020 version, through a
misnamed key, decayed nothing. --bias_correction gives torch's (and HuggingFace's) corrected Adam instead.
"""
import math

import torch

from uer.core.errors import UserInputError
from uer.optim.adafactor import Adafactor
from uer.optim.schedules import schedule_factor, tri_stage_factor

NO_DECAY = ("bias", "gamma", "beta")


class UncorrectedAdamW:
    """Makes a torch AdamW (fused or foreach kernel) take Adam steps without bias correction.

    torch's step is p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps) - lr*wd*p (c1 = 1 - beta1^t, c2 = 1 - beta2^t).
    With lr' = lr*c1/sqrt(c2), eps' = eps/sqrt(c2) and wd' = wd*sqrt(c2)/c1 it is p -= lr*m/(sqrt(v)+eps) - lr*wd*p,
    the uncorrected step: each step sets those three for its own t and gives the scheduler's values back after.
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        optimizer.register_step_pre_hook(self.before_step)
        optimizer.register_step_post_hook(self.after_step)
        self.saved = None

    def step_number(self, group):
        """t of the step about to be taken (1 for the first): torch keeps it per parameter; skipped steps (an
        inf/nan gradient under fp16) do not count."""
        for p in group["params"]:
            state = self.optimizer.state.get(p)
            if state and "step" in state:
                return int(state["step"]) + 1
        return 1

    def before_step(self, optimizer, args, kwargs):
        self.saved = []
        for group in optimizer.param_groups:
            t = self.step_number(group)
            beta1, beta2 = group["betas"]
            c1, c2 = 1 - beta1 ** t, math.sqrt(1 - beta2 ** t)
            self.saved.append((group["lr"], group["eps"], group["weight_decay"]))
            group["lr"] = group["lr"] * c1 / c2
            group["eps"] = group["eps"] / c2
            group["weight_decay"] = group["weight_decay"] * c2 / c1

    def after_step(self, optimizer, args, kwargs):
        for group, (lr, eps, weight_decay) in zip(optimizer.param_groups, self.saved):
            group["lr"], group["eps"], group["weight_decay"] = lr, eps, weight_decay


def parameter_groups(model, weight_decay):
    decay, no_decay = [], []
    seen = set()
    for name, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (no_decay if name.endswith(NO_DECAY) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model, args, total_updates):
    """--optimizer (AdamW, fused kernel when available, uncorrected unless --bias_correction; or Adafactor) with
    --scheduler's learning rate (default: BERT's linear warm-up then linear decay to zero)."""
    groups = parameter_groups(model, getattr(args, "weight_decay", 0.01))
    name = getattr(args, "optimizer", "adamw")
    if name == "adafactor":
        if getattr(args, "bias_correction", False):
            raise UserInputError("--bias_correction applies to Adam (--optimizer adamw); Adafactor has no first "
                                 "moment to correct")
        optimizer = Adafactor(groups, lr=args.learning_rate)
    else:
        optimizer = adamw(groups, args)
    scheduler = getattr(args, "scheduler", "linear")
    # the first update has learning rate 0 when there is warm-up (it only fills the moving averages), as UER-py's
    if scheduler == "tri_stage":
        factor = tri_stage_factor(total_updates * args.warmup, total_updates * tri_stage_decay(args), total_updates)
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    warmup = 0 if scheduler == "constant" else int(total_updates * args.warmup)
    factor = schedule_factor(scheduler, warmup, total_updates, args.learning_rate)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def tri_stage_decay(args):
    decay = getattr(args, "decay", None)
    if decay is None or not 0 <= decay <= 1 or decay + args.warmup > 1:
        raise UserInputError("--scheduler tri_stage needs --decay, the fraction of the updates in its decay stage "
                             "(0 to 1, with --warmup at most 1 together)")
    return decay


def adamw(groups, args):
    kwargs = {"lr": args.learning_rate, "betas": (args.beta1, args.beta2), "eps": 1e-6}
    try:
        optimizer = torch.optim.AdamW(groups, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.AdamW(groups, foreach=True, **kwargs)
    if not getattr(args, "bias_correction", False):
        UncorrectedAdamW(optimizer)
    return optimizer
