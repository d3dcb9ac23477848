import time

import torch


class Reporter:
    """Accumulates per-part loss/accuracy and throughput between reports."""

    def __init__(self, batch_size, seq_length, world_size, total_steps):
        self.tokens_per_step = batch_size * seq_length * world_size
        self.total_steps = total_steps
        self.reset()

    def reset(self):
        self.sums = {}
        self.steps = 0
        self.real_tokens = 0
        self.start = time.perf_counter()

    def add(self, parts, seg):
        self.steps += 1
        self.real_tokens += (seg > 0).sum()
        for name, p in parts.items():
            acc = self.sums.setdefault(name, torch.zeros(3, dtype=torch.float64, device=seg.device))
            acc += torch.stack([p["loss_sum"].detach().double(), p["correct"].double(), p["count"].double()])

    def line(self, step, lr, world_size=1):
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        fields = [f"| {step:8d}/{self.total_steps:8d} steps",
                  f"{self.tokens_per_step * self.steps / elapsed:10.2f} tokens/s",
                  f"{float(self.real_tokens) * world_size / elapsed:10.2f} real tokens/s"]
        total = 0.0
        for name, (loss_sum, correct, count) in ((n, v.tolist()) for n, v in self.sums.items()):
            loss = loss_sum / max(count, 1)
            total += loss
            fields.append(f"loss_{name} {loss:7.3f}| acc_{name} {correct / max(count, 1):6.3f}")
        fields.insert(3, f"loss {total:7.3f}")
        fields.append(f"lr {lr:.2e}")
        self.reset()
        return "| ".join(fields)
