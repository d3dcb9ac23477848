import numpy as np

from uer.data.masking import mask_matrix

SPECIAL = np.array([0, 1, 2, 3, 4])  # [PAD] [UNK] [CLS] [SEP] [MASK]
MASK_ID = 4


def sample(n=4000, length=100, vocab=500, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(5, vocab, size=(n, length))
    tokens[:, 0], tokens[:, 50], tokens[:, -1] = 2, 3, 3
    lengths = rng.integers(60, length + 1, size=n)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = 0
    return tokens


def test_rates_and_no_special_tokens():
    tokens = sample()
    candidate = ~np.isin(tokens, SPECIAL)
    masked, chosen = mask_matrix(tokens, candidate, np.random.default_rng(1), 500, MASK_ID, SPECIAL)
    assert not (chosen & ~candidate).any(), "a special token or padding was chosen"
    per_row = chosen.sum(1) / candidate.sum(1)
    assert abs(per_row.mean() - 0.15) < 0.005 and per_row.min() > 0.13
    picked, original = masked[chosen], tokens[chosen]
    as_mask = (picked == MASK_ID).mean()
    kept = (picked == original).mean()
    randomised = 1 - as_mask - kept
    assert abs(as_mask - 0.8) < 0.01 and abs(kept - 0.1) < 0.01 and abs(randomised - 0.1) < 0.01
    assert not np.isin(picked[(picked != MASK_ID) & (picked != original)], SPECIAL).any()
    assert (masked[~chosen] == tokens[~chosen]).all()


def test_at_least_one_token_masked_in_short_rows():
    tokens = np.array([[2, 7, 3, 0, 0]])
    _, chosen = mask_matrix(tokens, ~np.isin(tokens, SPECIAL), np.random.default_rng(0), 50, MASK_ID, SPECIAL)
    assert chosen.sum() == 1 and chosen[0, 1]


def test_span_masking_makes_contiguous_spans():
    tokens = sample(n=300)
    candidate = ~np.isin(tokens, SPECIAL)
    masked, chosen = mask_matrix(tokens, candidate, np.random.default_rng(2), 500, MASK_ID, SPECIAL, span=(0.2, 10))
    assert not (chosen & ~candidate).any()
    assert abs(chosen.sum(1).mean() / candidate.sum(1).mean() - 0.15) < 0.01
    starts = chosen[:, 1:] & ~chosen[:, :-1]
    mean_span = chosen.sum() / max(1, starts.sum() + chosen[:, 0].sum())
    assert mean_span > 2.0, "spans should be longer than single tokens"
