import contextlib

import torch


class Precision:
    """--fp16 with torch.amp: fp16 autocast + gradient scaling on CUDA, bf16 autocast on CPU.

    --fp16_opt_level O0 keeps fp32 (as apex's O0); O1, O2 and O3 all mean torch.amp mixed precision.
    """

    def __init__(self, fp16, opt_level, device):
        self.device = torch.device(device)
        self.enabled = bool(fp16) and opt_level != "O0"
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
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
