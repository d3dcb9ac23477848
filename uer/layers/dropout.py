import concurrent.futures
import math
import os

import numpy as np
import torch


CHUNK = 1 << 18  # mask elements per generator; chunks are drawn in parallel
_pools = {}  # (process id, threads) -> thread pool; a forked child makes its own


def thread_pool(threads):
    key = (os.getpid(), threads)
    if key not in _pools:
        _pools[key] = concurrent.futures.ThreadPoolExecutor(threads)
    return _pools[key]


def keep_mask(shape, p):
    """CPU bool mask, True with probability 1 - p.

    torch's CPU generator (mt19937) makes dropout masks slowly: torch.rand costs a draw per element and
    torch.bernoulli more. Here one draw from it seeds numpy SFC64 generators, one per chunk of CHUNK elements,
    whose 64-bit outputs, read as pairs of 32-bit integers, give the mask at about a fifth of the cost (and
    chunks run in parallel threads: numpy releases the GIL); torch.manual_seed and saved RNG states still
    decide every mask, whatever the number of threads, and a 32-bit threshold resolves p more finely than
    torch.rand's 24-bit floats."""
    count = math.prod(shape)
    seed = int(torch.randint(0, 2 ** 63 - 1, (), dtype=torch.int64))
    threshold = -2 ** 31 + round(p * 2 ** 32)
    out = np.empty(count, dtype=bool)

    def fill(start):
        n = min(CHUNK, count - start)
        bits = np.random.SFC64([seed, start]).random_raw((n + 1) // 2).view(np.int32)[:n]
        np.greater_equal(bits, threshold, out=out[start:start + n])

    starts = range(0, count, CHUNK)
    threads = torch.get_num_threads()
    if len(starts) > 1 and threads > 1:
        list(thread_pool(threads).map(fill, starts))
    else:
        for start in starts:
            fill(start)
    return torch.from_numpy(out).view(shape)


def dropout(x, p, training):
    """Inverted dropout with the distribution of F.dropout; on CPU its mask comes from keep_mask, except under
    torch.compile, whose generated code draws F.dropout's masks itself (numpy's generators cannot be traced)."""
    if not training or p == 0.0:
        return x
    if x.is_cuda or p >= 1.0 or torch.compiler.is_compiling():
        return torch.nn.functional.dropout(x, p, True)
    # the mask as a uint8 factor: a bool one is cast to x's dtype on each use, which takes 2-3x as long
    return x * keep_mask(x.shape, p).view(torch.uint8) * (1.0 / (1.0 - p))
