"""BERT-style masking on a matrix of token ids, vectorised with numpy.

15% of the candidate (non-special) tokens of each row are chosen (at least one); of those 80% become [MASK],
10% a random non-special token and 10% stay. With span masking (SpanBERT) contiguous spans of geometric length
are chosen until the 15% budget is reached, and the 80/10/10 decision is taken per span.
"""
import numpy as np

MASK_RATE = 0.15


def random_tokens(rng, count, vocab_size, special_ids):
    out = rng.integers(0, vocab_size, size=count)
    bad = np.isin(out, special_ids)
    while bad.any():
        out[bad] = rng.integers(0, vocab_size, size=int(bad.sum()))
        bad = np.isin(out, special_ids)
    return out


def mask_budget(candidate):
    n_cand = candidate.sum(1)
    return np.where(n_cand > 0, np.maximum(1, np.rint(n_cand * MASK_RATE)), 0).astype(np.int64)


def choose_tokens(candidate, rng):
    n, length = candidate.shape
    keys = rng.random((n, length))
    keys[~candidate] = 2.0
    ranks = np.empty((n, length), dtype=np.int64)
    np.put_along_axis(ranks, np.argsort(keys, axis=1), np.broadcast_to(np.arange(length), (n, length)), axis=1)
    chosen = ranks < mask_budget(candidate)[:, None]
    return chosen, np.where(chosen, np.arange(length)[None, :], -1)  # span id = position


def choose_spans(candidate, rng, geo_prob, max_length):
    n, length = candidate.shape
    chosen = np.zeros((n, length), dtype=bool)
    span_id = np.full((n, length), -1, dtype=np.int64)
    budgets = mask_budget(candidate)
    for row in range(n):
        positions = np.flatnonzero(candidate[row])
        taken, spans, tries = 0, 0, 0
        while taken < budgets[row] and tries < 10 * length:
            tries += 1
            span = min(int(rng.geometric(geo_prob)), max_length, int(budgets[row] - taken))
            start = positions[rng.integers(len(positions))]
            for pos in range(start, min(start + span, length)):
                if not candidate[row, pos] or chosen[row, pos]:
                    break
                chosen[row, pos] = True
                span_id[row, pos] = spans
                taken += 1
            spans += 1
    return chosen, span_id


def mask_matrix(tokens, candidate, rng, vocab_size, mask_id, special_ids, span=None):
    """Return (masked tokens, chosen) for `tokens` [n, L]; `candidate` marks maskable positions.

    span: None, or (geo_prob, max_length) for span masking.
    """
    if span is None:
        chosen, span_id = choose_tokens(candidate, rng)
    else:
        chosen, span_id = choose_spans(candidate, rng, *span)
    n, length = tokens.shape
    # One uniform draw per span (per token when spans are single tokens) decides mask / random / keep.
    draws = rng.random((n, length))
    u = np.take_along_axis(draws, np.maximum(span_id, 0) % length, axis=1)
    out = tokens.copy()
    out[chosen & (u < 0.8)] = mask_id
    to_random = chosen & (u >= 0.8) & (u < 0.9)
    out[to_random] = random_tokens(rng, int(to_random.sum()), vocab_size, special_ids)
    return out, chosen
