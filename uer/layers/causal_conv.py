"""Causal convolutions with UER's Conv2d parameter shapes, computed as 1-D convolutions.

UER stores the first convolution of a stack as Conv2d(1, hidden, (kernel, width)) over [batch, 1, length, width]
and the others as Conv2d(hidden, hidden, (kernel, 1)); the sequence is padded with kernel-1 zeros on the left,
so position t sees positions t-kernel+1..t only. A Conv2d whose kernel spans the full width is a Conv1d over
in_channels * width channels, which is what runs here (one kernel call, no 4-D reshapes).
"""
import torch.nn as nn
import torch.nn.functional as F


def conv_stack(in_width, hidden_size, kernel_size, rest_num):
    """(conv_1, conv): the first convolution over `in_width` features and `rest_num` over hidden."""
    first = nn.Conv2d(1, hidden_size, (kernel_size, in_width))
    rest = nn.ModuleList(nn.Conv2d(hidden_size, hidden_size, (kernel_size, 1)) for _ in range(rest_num))
    return first, rest


def causal_conv(x, conv):
    """x [batch, channels, length] -> [batch, out_channels, length], left zero padding of kernel-1."""
    w = conv.weight
    out_channels, in_channels, kernel, width = w.shape
    weight = w.permute(0, 1, 3, 2).reshape(out_channels, in_channels * width, kernel)
    return F.conv1d(F.pad(x, (kernel - 1, 0)), weight, conv.bias)


def run_conv_stack(x, conv_1, conv):
    """x [batch, length, features] -> [batch, length, hidden]; linear convolutions, as UER's CnnEncoder."""
    hidden = causal_conv(x.transpose(1, 2), conv_1)
    for layer in conv:
        hidden = causal_conv(hidden, layer)
    return hidden.transpose(1, 2)
