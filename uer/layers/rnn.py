"""Helpers that keep recurrent encoders from reading padding (which always sits at the end of a row)."""
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def lengths_of(seg):
    """Real tokens per row: segments are 0 exactly on padding."""
    return (seg > 0).sum(1).clamp(min=1)


def run_rnn(rnn, x, lengths, packed):
    """Outputs of `rnn` over x [batch, length, features].

    A forward-only RNN needs no packing: padding at the end cannot reach earlier outputs. A bidirectional one
    would read padding on its way back, so it runs on a packed sequence (padding outputs come back as zeros).
    """
    if x.is_cuda:
        rnn.flatten_parameters()
    if not packed:
        return rnn(x)[0]
    pack = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(rnn(pack)[0], batch_first=True, total_length=x.size(1))[0]


def reverse_within_length(x, lengths):
    """Reverse each row's first `length` positions, leaving padding in place (its own inverse)."""
    length = x.size(1)
    steps = torch.arange(length, device=x.device)
    index = lengths[:, None] - 1 - steps[None, :]
    index = torch.where(index >= 0, index, steps[None, :])
    return x.gather(1, index[:, :, None].expand(-1, -1, x.size(2)))
