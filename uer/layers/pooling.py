import torch


def pool(memory_bank, seg, pooling):
    """Sequence vector from hidden states; padding (seg == 0) never contributes."""
    if pooling == "first":
        return memory_bank[:, 0, :]
    mask = (seg > 0).unsqueeze(-1)
    if pooling == "mean":
        return (memory_bank * mask).sum(1) / mask.sum(1).clamp(min=1)
    if pooling == "max":
        return memory_bank.masked_fill(~mask, torch.finfo(memory_bank.dtype).min).max(1).values
    if pooling == "last":
        last = (seg > 0).sum(1).clamp(min=1) - 1
        return memory_bank[torch.arange(memory_bank.size(0), device=memory_bank.device), last]
    raise ValueError(f"unknown pooling {pooling!r}; expected mean, max, first or last")


POOLINGS = ("mean", "max", "first", "last")
