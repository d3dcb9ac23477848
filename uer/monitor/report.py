"""Pre-training report: per-part loss/accuracy and throughput between reports, as figures and as UER's line."""
import time

import torch

from uer.monitor.progress import progress, write


class Reporter:
    """Accumulates per-part loss/accuracy and throughput between reports."""

    def __init__(self, batch_size, seq_length, world_size, total_steps, flops=None):
        """flops: (training FLOPs per token, peak FLOP/s of one device) when known: the report gives MFU."""
        self.tokens_per_step = batch_size * seq_length * world_size
        self.world_size = world_size
        self.total_steps = total_steps
        self.flops = flops
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

    def figures(self, step, lr):
        """The report's figures since the last one (then starts a new interval): step, tokens/s, real (non-pad)
        tokens/s over all processes, total loss, loss_PART and acc_PART per target part, learning rate."""
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        out = {"step": step, "tokens_per_s": self.tokens_per_step * self.steps / elapsed,
               "real_tokens_per_s": float(self.real_tokens) * self.world_size / elapsed, "loss": 0.0}
        for name, (loss_sum, correct, count) in ((n, v.tolist()) for n, v in self.sums.items()):
            out[f"loss_{name}"] = loss_sum / max(count, 1)
            out[f"acc_{name}"] = correct / max(count, 1)
            out["loss"] += out[f"loss_{name}"]
        out["lr"] = lr
        if self.flops:
            per_token, peak = self.flops
            out["mfu"] = per_token * out["real_tokens_per_s"] / (peak * self.world_size)
        self.reset()
        return out

    def report(self, metrics, step, lr, scaler):
        """UER's report line (every --report_steps steps, and at the last step) and its metrics record."""
        figures = self.figures(step, lr)
        if scaler.is_enabled():
            figures["loss_scale"] = scaler.get_scale()
        write(self.line(figures))
        metrics.log("train", figures)

    def line(self, fig):
        """UER's report line (users grep it: keep its shape)."""
        fields = [f"| {fig['step']:8d}/{self.total_steps:8d} steps", f"{fig['tokens_per_s']:10.2f} tokens/s",
                  f"{fig['real_tokens_per_s']:10.2f} real tokens/s", f"loss {fig['loss']:7.3f}"]
        fields += [f"{key} {fig[key]:7.3f}| acc_{key[5:]} {fig['acc_' + key[5:]]:6.3f}"
                   for key in fig if key.startswith("loss_")]
        fields.append(f"lr {fig['lr']:.2e}")
        if "mfu" in fig:
            fields.append(f"mfu {100 * fig['mfu']:.2f}%")
        return "| ".join(fields)


class StepBar:
    """The master's progress over the steps (steps, tokens/s, time left), on stderr below the report lines."""

    def __init__(self, tokens_per_step, total_steps, start, enabled=True):
        self.tokens_per_step, self.start, self.began = tokens_per_step, start, time.perf_counter()
        self.bar = progress(total=total_steps, initial=start, desc="pre-training", unit="step", disable=not enabled)

    def advance(self, step):
        tokens_per_s = (step - self.start) * self.tokens_per_step / max(time.perf_counter() - self.began, 1e-9)
        self.bar.set_postfix_str(f"{tokens_per_s:.0f} tokens/s", refresh=False)
        self.bar.update(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()
