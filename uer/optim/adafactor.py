"""--optimizer adafactor: Adafactor as UER-py's successor runs it (HuggingFace's with scale_parameter=False,
relative_step=False): the given learning rate, no first moment, second moments factored into row and column
means for matrices, updates clipped to RMS 1. torch.optim.Adafactor scales steps by the parameters' RMS and
caps the rate by 1/sqrt(t), which is another curve."""
import math

import torch

EPS = 1e-30  # added to the squared gradients
CLIP = 1.0
DECAY_RATE = -0.8  # beta2 of step t is 1 - t^-0.8


def rms(t):
    return t.norm(2) / math.sqrt(t.numel())


class Adafactor(torch.optim.Optimizer):
    def __init__(self, params, lr, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, group)
        return loss

    def update(self, p, group):
        grad = p.grad.float()
        state = self.state[p]
        factored = grad.dim() >= 2
        if not state:
            state["step"] = torch.tensor(0.0)
            if factored:
                state["exp_avg_sq_row"] = torch.zeros(grad.shape[:-1], device=grad.device)
                state["exp_avg_sq_col"] = torch.zeros(grad.shape[:-2] + grad.shape[-1:], device=grad.device)
            else:
                state["exp_avg_sq"] = torch.zeros_like(grad)
        state["step"] += 1
        beta2 = 1.0 - math.pow(float(state["step"]), DECAY_RATE)
        squared = grad * grad + EPS
        if factored:
            row, col = state["exp_avg_sq_row"], state["exp_avg_sq_col"]
            row.mul_(beta2).add_(squared.mean(dim=-1), alpha=1.0 - beta2)
            col.mul_(beta2).add_(squared.mean(dim=-2), alpha=1.0 - beta2)
            row_factor = (row / row.mean(dim=-1, keepdim=True)).rsqrt_().unsqueeze(-1)
            step = row_factor * col.unsqueeze(-2).rsqrt() * grad
        else:
            second = state["exp_avg_sq"]
            second.mul_(beta2).add_(squared, alpha=1.0 - beta2)
            step = second.rsqrt() * grad
        step.div_((rms(step) / CLIP).clamp_(min=1.0)).mul_(group["lr"])
        master = p.float() if p.dtype in (torch.float16, torch.bfloat16) else p
        if group["weight_decay"]:
            master.add_(master, alpha=-group["weight_decay"] * group["lr"])
        master.add_(-step)
        if master is not p:
            p.copy_(master)
