import math

import numpy as np
import torch


def keep_mask(shape, p):
    """CPU bool mask, True with probability 1 - p.

    torch's CPU generator (mt19937) makes dropout masks slowly: torch.rand costs a draw per element and
    torch.bernoulli more. Here one draw from it seeds numpy's SFC64 generator, whose 64-bit outputs, read as
    pairs of 32-bit integers, give the mask at about a fifth of the cost; torch.manual_seed and saved RNG
    states still decide every mask, and a 32-bit threshold resolves p more finely than torch.rand's 24-bit
    floats."""
    count = math.prod(shape)
    seed = int(torch.randint(0, 2 ** 63 - 1, (), dtype=torch.int64))
    bits = np.random.SFC64(seed).random_raw((count + 1) // 2).view(np.int32)[:count]
    threshold = -2 ** 31 + round(p * 2 ** 32)
    return (torch.from_numpy(bits) >= threshold).view(shape)


def dropout(x, p, training):
    """Inverted dropout with the distribution of F.dropout; on CPU its mask comes from keep_mask."""
    if not training or p == 0.0:
        return x
    if x.is_cuda or p >= 1.0:
        return torch.nn.functional.dropout(x, p, True)
    return x * keep_mask(x.shape, p) * (1.0 / (1.0 - p))
