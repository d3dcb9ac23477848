"""Model FLOPs utilisation (MFU), as TorchTitan logs it: the FLOPs a token costs in training, 6 x the parameters
that multiply (all but the word table's lookup; an output layer tied to it counts) + 12 x layers x hidden size x
sequence length for the attention scores, times the real (non-padding) tokens per second, over the peak of the
processes' devices: --peak_tflops, else the data sheet's dense figure of a known GPU for the training precision,
else a measured matrix product."""
import time

import torch

from uer.runtime.precision import cpu_matmul_rates

# dense TFLOP/s per GPU from the data sheets: (16-bit, fp32 products as torch runs them: TF32 where it has it)
GPU_PEAKS = {"H200": (989.0, 494.5), "H100": (989.0, 494.5), "H800": (989.0, 494.5), "A100": (312.0, 156.0),
             "A800": (312.0, 156.0), "L40S": (362.0, 183.0), "A10": (125.0, 62.5), "V100": (125.0, 15.7),
             "RTX 4090": (165.0, 82.6), "RTX 3090": (71.0, 35.6)}


def flops_per_token(model, config, seq_length):
    """Training FLOPs of one token of a model (6N + 12 l h s; None for one without transformer layers)."""
    word = getattr(getattr(model, "embedding", None), "word_embedding", None)
    lookup = word.weight.numel() if word is not None else 0
    tied = any(p is word.weight for name, p in model.named_parameters(remove_duplicate=False)
               if not name.startswith("embedding.")) if word is not None else False
    params = sum(p.numel() for p in model.parameters()) - (0 if tied else lookup)
    layers = getattr(getattr(model, "encoder", None), "layers_num", 0) or 0
    hidden = getattr(config, "hidden_size", 0) or 0
    return 6 * params + 12 * layers * hidden * seq_length


def measured_gpu_peak(device, dtype, size=4096, repeats=5):
    numbers = torch.Generator(device=device).manual_seed(0)  # the run's own generator stays untouched
    a, b = (torch.randn(size, size, device=device, dtype=dtype, generator=numbers) for _ in range(2))
    torch.mm(a, b)
    torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    torch.cuda.synchronize(device)
    return 2 * size ** 3 * repeats / (time.perf_counter() - start)


def peak_flops(device, precision, configured_tflops=None):
    """(FLOP/s of one device, where the figure comes from)."""
    if configured_tflops:
        return configured_tflops * 1e12, "--peak_tflops"
    half = precision.enabled
    device = torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, (sixteen, fp32) in GPU_PEAKS.items():
            if key in name:
                return (sixteen if half else fp32) * 1e12, f"{name} data sheet"
        return measured_gpu_peak(device, precision.dtype if half else torch.float32), f"{name} measured"
    rates = cpu_matmul_rates()
    return rates["bf16" if half else "fp32"] * 1e9, "CPU matrix products measured"
