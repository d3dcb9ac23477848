import contextlib
import functools
import math
import sys
import time

import torch


# bf16 autocast also pays for casts, so its products must beat fp32's by a margin: on the CPUs measured, products
# 4.3x faster gave 3.3x faster BERT-base steps, products 0.57x as fast gave 0.69x.
BF16_MIN_SPEEDUP = 1.3


def cpu_has_fast_bf16():
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@functools.cache
def cpu_matmul_rates(rows=512, width=768, repeats=3):
    """{dtype name: GFLOP/s} of [rows, width] x [width, width] products in fp32 and bf16 on this CPU with this
    process's threads, best of `repeats` after a warm-up; measured once per process (~20 ms)."""
    rates = {}
    numbers = torch.Generator().manual_seed(0)  # not the global generator: a run's random draws stay its own
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(rows, width, generator=numbers).to(dtype)
        b = torch.randn(width, width, generator=numbers).to(dtype)
        torch.mm(a, b)
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - start)
        rates[name] = 2 * rows * width * width / max(best, 1e-9) / 1e9
    return rates


def cpu_bf16_choice():
    """(use bf16, the one line that says why) for --fp16 on this CPU."""
    if not cpu_has_fast_bf16():
        return False, ("--fp16: this CPU has no native bf16 matrix instructions (AVX512-BF16 or AMX), where bf16 "
                       "matrix products run ~50x slower than fp32; training in fp32 instead")
    rates = cpu_matmul_rates()
    measured = f"bf16 matrix products run at {rates['bf16']:.0f} GFLOP/s here, fp32 at {rates['fp32']:.0f}"
    if rates["bf16"] < BF16_MIN_SPEEDUP * rates["fp32"]:
        return False, (f"--fp16: {measured}, under the {BF16_MIN_SPEEDUP}x it takes to pay for the casts of mixed "
                       "precision; training in fp32, which is faster on this CPU")
    return True, f"--fp16: bf16 mixed precision ({measured})"


class Precision:
    """--fp16 with torch.amp: fp16 autocast + gradient scaling on CUDA, bf16 autocast on CPU.

    --fp16_opt_level O0 keeps fp32 (as apex's O0); O1, O2 and O3 all mean torch.amp mixed precision.
    """

    def __init__(self, fp16, opt_level, device):
        self.device = torch.device(device)
        self.enabled = bool(fp16) and opt_level != "O0"
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        if self.enabled and self.device.type == "cpu":
            self.enabled, why = cpu_bf16_choice()
            print(why if self.enabled else f"WARNING: {why}", file=sys.stderr)
        use_scaler = self.enabled and self.dtype == torch.float16
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler)

    def autocast(self):
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward(self, loss):
        self.scaler.scale(loss).backward()

    def step(self, optimizer):
        self.scaler.step(optimizer)
        self.scaler.update()
