"""The default optimizer takes UER-py's steps: Adam without bias correction, its warm-up/decay schedule, weight
decay on weights only; --bias_correction gives torch's AdamW."""
from argparse import Namespace

import pytest
import torch
import torch.nn as nn

from uer.optim.optimizers import build_optimizer


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(6, 4)
        self.gamma = nn.Parameter(torch.ones(4))

    def forward(self, x):
        return ((self.linear(x) * self.gamma) ** 2).mean()


def uer_schedule(step, total, warmup):
    """UER-py's WarmupLinearSchedule (pytorch-transformers)."""
    if step < warmup:
        return step / max(1, warmup)
    return max(0.0, (total - step) / max(1.0, total - warmup))


def reference_steps(params, grads_per_step, lr, total, warmup, weight_decay, decays, betas=(0.9, 0.999), eps=1e-6):
    """Plain uncorrected Adam (BERT's / AdamW(correct_bias=False)), one tensor at a time."""
    params = [p.clone() for p in params]
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    for step, grads in enumerate(grads_per_step):
        rate = lr * uer_schedule(step, total, warmup)
        for i, (p, g) in enumerate(zip(params, grads)):
            if decays[i]:
                p.mul_(1 - rate * weight_decay)
            m[i] = betas[0] * m[i] + (1 - betas[0]) * g
            v[i] = betas[1] * v[i] + (1 - betas[1]) * g * g
            p -= rate * m[i] / (v[i].sqrt() + eps)
    return params


def train(model, args, total, steps, seed=0):
    optimizer, scheduler = build_optimizer(model, args, total)
    g = torch.Generator().manual_seed(seed)
    grads_seen = []
    for _ in range(steps):
        model(torch.randn(8, 6, generator=g)).backward()
        grads_seen.append([p.grad.clone() for p in model.parameters()])
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    return grads_seen


def args_of(**kw):
    return Namespace(**dict(dict(learning_rate=1e-2, beta1=0.9, beta2=0.999, warmup=0.25, weight_decay=0.01,
                                 bias_correction=False), **kw))


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_default_is_adam_without_bias_correction(weight_decay):
    torch.manual_seed(0)
    model = Tiny()
    start = [p.detach().clone() for p in model.parameters()]
    names = [n for n, _ in model.named_parameters()]
    grads = train(model, args_of(weight_decay=weight_decay), total=12, steps=12)
    # Reference fed the gradients the model saw (they depend on the parameters of each step).
    expected = reference_steps(start, grads, 1e-2, 12, 3, weight_decay, [n == "linear.weight" for n in names])
    for name, p, e in zip(names, model.parameters(), expected):
        assert torch.allclose(p.detach(), e, atol=1e-6, rtol=0), name
    # and the update really is uncorrected: bias correction would move the parameters elsewhere
    torch.manual_seed(0)
    corrected = Tiny()
    train(corrected, args_of(weight_decay=weight_decay, bias_correction=True), total=12, steps=12)
    assert (corrected.linear.weight - model.linear.weight).abs().max() > 1e-3


def test_bias_correction_flag_is_torch_adamw():
    torch.manual_seed(0)
    model = Tiny()
    twin = Tiny()
    twin.load_state_dict(model.state_dict())
    train(model, args_of(bias_correction=True), total=10, steps=10)
    groups = [{"params": [twin.linear.weight], "weight_decay": 0.01},
              {"params": [twin.linear.bias, twin.gamma], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=1e-2, eps=1e-6)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: uer_schedule(s, 10, 2))
    g = torch.Generator().manual_seed(0)
    for _ in range(10):
        twin(torch.randn(8, 6, generator=g)).backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.allclose(p, q, atol=1e-6, rtol=0)


def test_first_update_of_a_warm_up_has_learning_rate_zero_and_groups_keep_the_schedule():
    torch.manual_seed(0)
    model = Tiny()
    before = model.linear.weight.detach().clone()
    optimizer, scheduler = build_optimizer(model, args_of(), 20)
    model(torch.randn(8, 6)).backward()
    optimizer.step()
    assert torch.equal(model.linear.weight, before)
    scheduler.step()
    model(torch.randn(8, 6)).backward()
    optimizer.step()
    assert not torch.equal(model.linear.weight, before)
    # the step's temporary learning rate, eps and decay are given back: the schedule and a saved state see UER's
    assert [g["lr"] for g in optimizer.param_groups] == [1e-2 / 5] * 2
    assert [g["eps"] for g in optimizer.param_groups] == [1e-6] * 2
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.01, 0.0]


# -- --scheduler and --optimizer adafactor (UER-py's successor's choices)

def schedule_formula(name, step, total, warmup, lr):
    """Each schedule written out from its definition (HuggingFace's get_*_schedule_with_warmup)."""
    import math
    if name != "constant" and step < warmup:
        return step / warmup
    done = (step - warmup) / (total - warmup)
    return {"linear": lambda: max(0.0, 1 - done),
            "cosine": lambda: 0.5 * (1 + math.cos(math.pi * done)),
            "cosine_with_restarts": lambda: 0.0 if done >= 1 else 0.5 * (1 + math.cos(math.pi * (done % 1))),
            "polynomial": lambda: ((lr - 1e-7) * (1 - done) + 1e-7) / lr,
            "constant": lambda: 1.0,
            "constant_with_warmup": lambda: 1.0,
            "inverse_sqrt": lambda: (warmup / step) ** 0.5}[name]()


SCHEDULE_STEPS = (0, 1, 4, 5, 6, 12, 19, 20)
SCHEDULE_NAMES = ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
                  "inverse_sqrt"]


@pytest.mark.parametrize("name", SCHEDULE_NAMES)
def test_each_schedule_follows_its_formula(name):
    total, lr = 20, 1e-2
    warmup = 0 if name == "constant" else 5
    rates = schedule_rates(name, total)
    for step in SCHEDULE_STEPS:
        assert rates[step] == pytest.approx(lr * schedule_formula(name, step, total, warmup, lr), rel=1e-9,
                                            abs=1e-12)
    if name not in ("constant", "constant_with_warmup"):
        assert rates[12] < rates[6] < lr  # it does decay


def schedule_rates(name, total):
    """{update: learning rate} of --scheduler NAME over `total` updates (--warmup 0.25, --learning_rate 1e-2)."""
    optimizer, scheduler = build_optimizer(Tiny(), args_of(scheduler=name, warmup=0.25), total)
    rates = {}
    for step in range(total + 1):
        rates[step] = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
    return rates


def adafactor_reference(params, grads_per_step, lr, decays, weight_decay=0.01):
    """Adafactor written out (Shazeer & Stern, as HF's with scale_parameter=False, relative_step=False): factored
    second moments for matrices, updates clipped to RMS 1, decoupled weight decay by lr."""
    params = [p.detach().clone() for p in params]
    state = [None] * len(params)
    for t, grads in enumerate(grads_per_step, start=1):
        beta2 = 1 - t ** -0.8
        for i, (p, g) in enumerate(zip(params, grads)):
            g2 = g * g + 1e-30
            if p.dim() == 2:
                row, col = state[i] or (torch.zeros(p.shape[0]), torch.zeros(p.shape[1]))
                row, col = beta2 * row + (1 - beta2) * g2.mean(1), beta2 * col + (1 - beta2) * g2.mean(0)
                state[i] = (row, col)
                v = torch.outer(row, col) / row.mean()
            else:
                v = beta2 * (state[i] if state[i] is not None else torch.zeros_like(p)) + (1 - beta2) * g2
                state[i] = v
            u = g / v.sqrt()
            u = u / max(1.0, float(u.pow(2).mean().sqrt()))
            if decays[i]:
                p -= weight_decay * lr * p
            p -= lr * u
    return params


def test_adafactor_takes_the_written_out_steps():
    torch.manual_seed(0)
    model = Tiny()
    start = [p.detach().clone() for p in model.parameters()]
    grads = train(model, args_of(optimizer="adafactor", scheduler="constant", learning_rate=1e-2), 10, 6)
    decays = [name.endswith("weight") for name, _ in model.named_parameters()]
    expected = adafactor_reference(start, grads, 1e-2, decays)
    for (name, ours), theirs in zip(model.named_parameters(), expected):
        assert torch.allclose(ours, theirs, atol=1e-6, rtol=0), name
    assert not torch.allclose(model.linear.weight, start[1])


def test_adafactor_refuses_bias_correction():
    from uer.core.errors import UserInputError
    with pytest.raises(UserInputError, match="--bias_correction applies to Adam"):
        build_optimizer(Tiny(), args_of(optimizer="adafactor", bias_correction=True), 10)
