"""BERT-style masking on a matrix of token ids, vectorised with numpy.

15% of the candidate (non-special) tokens of each row are chosen (at least one); of those 80% become [MASK],
10% a random non-special token and 10% stay. With span masking (SpanBERT) contiguous spans of geometric length
are chosen until the 15% budget is reached, and the 80/10/10 decision is taken per span. With whole-word
masking whole words are chosen in random order until the budget is covered (a word that would overshoot it is
skipped, as Google's script does), and the 80/10/10 decision is taken once per word.
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


def choose_words(candidate, word_start, rng):
    """Whole words in random order while they fit the budget; span id = position of the word's first token.

    A word is a run of candidate tokens from a word start to the next; a non-candidate token (special, padding)
    ends the word before it, so a word cut by truncation or by a chunk edge is what is left of it."""
    n, length = candidate.shape
    starts = word_start | ~candidate
    starts[:, 1:] |= ~candidate[:, :-1]
    starts[:, 0] = True
    position = np.arange(length)
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=1)
    owner = (first + length * np.arange(n)[:, None]).ravel()  # (row, word's first position), flattened
    word_len = np.bincount(owner, weights=candidate.ravel(), minlength=n * length).astype(np.int64).reshape(n, length)
    keys = rng.random((n, length))
    keys[word_len == 0] = 2.0
    order = np.argsort(keys, axis=1)
    lengths = np.take_along_axis(word_len, order, axis=1)
    budget = mask_budget(candidate)
    taken = np.zeros(n, dtype=np.int64)
    take = np.zeros((n, length), dtype=bool)
    for k in range(length):
        fits = (lengths[:, k] > 0) & (taken + lengths[:, k] <= budget)
        if not fits.any() and ((taken >= budget) | (lengths[:, k] == 0)).all():
            break
        take[:, k] = fits
        taken += np.where(fits, lengths[:, k], 0)
    word_taken = np.zeros((n, length), dtype=bool)
    np.put_along_axis(word_taken, order, take, axis=1)
    chosen = np.take_along_axis(word_taken, first, axis=1) & candidate
    return chosen, np.where(chosen, first, -1)


def mask_matrix(tokens, candidate, rng, vocab_size, mask_id, special_ids, span=None, word_start=None):
    """Return (masked tokens, chosen) for `tokens` [n, L]; `candidate` marks maskable positions.

    span: None, or (geo_prob, max_length) for span masking. word_start: None, or bool [n, L] marking the
    tokens that start a word, for whole-word masking.
    """
    if word_start is not None:
        chosen, span_id = choose_words(candidate, word_start, rng)
    elif span is None:
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
