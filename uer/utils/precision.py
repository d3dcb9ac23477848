import contextlib
import sys

import torch


def cpu_has_fast_bf16():
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class Precision:
    """--fp16 with torch.amp: fp16 autocast + gradient scaling on CUDA, bf16 autocast on CPU.

    --fp16_opt_level O0 keeps fp32 (as apex's O0); O1, O2 and O3 all mean torch.amp mixed precision.
    """

    def __init__(self, fp16, opt_level, device):
        self.device = torch.device(device)
        self.enabled = bool(fp16) and opt_level != "O0"
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        if self.enabled and self.device.type == "cpu" and not cpu_has_fast_bf16():
            print("WARNING: --fp16: this CPU has no native bf16 matrix instructions (AVX512-BF16 or AMX), where "
                  "bf16 matrix products run ~50x slower than fp32; training in fp32 instead", file=sys.stderr)
            self.enabled = False
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
