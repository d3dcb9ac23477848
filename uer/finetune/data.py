"""Fine-tuning data: TSV files with a header row, encoded once into a flat token store, and batches padded to
their longest member (length-bucketed for training, length-sorted for evaluation)."""
import numpy as np
import torch

from uer.core.constants import CLS_TOKEN, SEP_TOKEN
from uer.core.errors import UserInputError
from uer.core.readers import read_lines


def read_tsv(path, required, optional=()):
    """Columns of a TSV whose first row names them: {name: [values]} plus "line" (1-based line numbers).

    Empty lines are skipped; a row with fewer fields than the header needs is an error naming its line.
    """
    lines = read_lines(path)
    if not lines:
        raise UserInputError(f"{path}: empty file; expected a header row naming the columns {', '.join(required)}")
    header = lines[0].split("\t")
    missing = [c for c in required if c not in header]
    if missing:
        raise UserInputError(f"{path}:1: expected a header row naming the columns {', '.join(required)} "
                             f"(missing {', '.join(missing)}; found {', '.join(header)})")
    wanted = [c for c in list(required) + list(optional) if c in header]
    index = {c: header.index(c) for c in wanted}
    width = max(index.values()) + 1
    columns = {c: [] for c in wanted}
    columns["line"] = []
    for no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < width:
            raise UserInputError(f"{path}:{no}: expected {len(header)} tab-separated fields "
                                 f"({', '.join(header)}), found {len(fields)}")
        for c, i in index.items():
            columns[c].append(fields[i])
        columns["line"].append(no)
    if not columns["line"]:
        raise UserInputError(f"{path}: no data rows after the header")
    return columns


def parse_labels(path, values, lines, labels_num=None):
    """Integer labels in 0..labels_num-1 (labels_num None: any non-negative integer)."""
    labels = parse_numbers(path, values, lines, int, np.int64, "an integer")
    outside = (labels < 0) | (labels >= labels_num if labels_num is not None else False)
    if outside.any():
        k = int(np.argmax(outside))
        bound = f"0..{labels_num - 1}" if labels_num is not None else "0 or more"
        raise UserInputError(f"{path}:{lines[k]}: label {labels[k]} is outside {bound}")
    return labels


def parse_scores(path, values, lines):
    """Float labels (regression scores, similarities)."""
    return parse_numbers(path, values, lines, float, np.float32, "a number")


def parse_numbers(path, values, lines, convert, dtype, what):
    numbers = np.empty(len(values), dtype=dtype)
    for k, (v, no) in enumerate(zip(values, lines)):
        try:
            numbers[k] = convert(v)
        except ValueError:
            raise UserInputError(f"{path}:{no}: label {v!r} is not {what}") from None
    return numbers


class Examples:
    """Token ids of n examples in one flat array; example i is tokens[start[i]:start[i]+length[i]], of which
    the first a_len[i] have segment 1 and the rest segment 2. `fields` holds per-example arrays (labels, ...)."""

    pad_to = 0  # set to seq_length: every batch padded to it (UER-py's layout; benchmarks measure its cost)

    def __init__(self, sequences, a_lens, fields=None, token_fields=None):
        self.length = np.array([len(s) for s in sequences], dtype=np.int64)
        self.start = np.concatenate([[0], np.cumsum(self.length)[:-1]]).astype(np.int64)
        self.tokens = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences]) if sequences else \
            np.zeros(0, dtype=np.int64)
        self.a_len = np.asarray(a_lens, dtype=np.int64)
        self.fields = fields or {}
        self.token_fields = token_fields or {}  # flat arrays aligned with `tokens` (e.g. one tag per token)

    def __len__(self):
        return len(self.length)

    def describe(self, split):
        return f"{len(self)} {split} examples"

    @classmethod
    def concatenate(cls, parts):
        """One Examples holding all of `parts` in order (fields must be the same in every part)."""
        out = cls.__new__(cls)
        out.length = np.concatenate([p.length for p in parts])
        offsets = np.cumsum([0] + [len(p.tokens) for p in parts[:-1]])
        out.start = np.concatenate([p.start + o for p, o in zip(parts, offsets)])
        out.tokens = np.concatenate([p.tokens for p in parts])
        out.a_len = np.concatenate([p.a_len for p in parts])
        out.fields = {k: np.concatenate([p.fields[k] for p in parts]) for k in parts[0].fields}
        out.token_fields = {k: np.concatenate([p.token_fields[k] for p in parts]) for k in parts[0].token_fields}
        return out

    def batch(self, indices, device):
        """(src, seg) LongTensors [len(indices), longest] on `device`; padding is id 0 with segment 0."""
        inside, where = self._layout(indices)
        src = np.zeros(inside.shape, dtype=np.int64)
        src[inside] = self.tokens[where]
        j = np.arange(inside.shape[1])[None, :]
        seg = np.where(inside, np.where(j < self.a_len[indices][:, None], 1, 2), 0)
        return torch.from_numpy(src).to(device), torch.from_numpy(seg).to(device)

    def _layout(self, indices):
        length = self.length[indices]
        j = np.arange(max(int(length.max()), self.pad_to))[None, :]
        inside = j < length[:, None]
        return inside, (self.start[indices][:, None] + j)[inside]

    def token_field(self, name, indices, device):
        """A per-token field padded like batch() (padding 0)."""
        inside, where = self._layout(indices)
        out = np.zeros(inside.shape, dtype=np.int64)
        out[inside] = self.token_fields[name][where]
        return torch.from_numpy(out).to(device)

    def field(self, name, indices, device):
        return torch.from_numpy(self.fields[name][indices]).to(device)


class GroupedExamples:
    """Examples of group_size sequences each (the choices of a question, the two texts of a pair) for the
    batching layer: a batch of examples is the batch of all their rows, example i's rows being
    i * group_size ... i * group_size + group_size - 1 of `rows`; an example is as long as its longest row."""

    def __init__(self, rows, group_size, fields, unit="examples"):
        self.rows, self.group_size, self.fields, self.unit = rows, group_size, fields, unit
        self.length = rows.length.reshape(-1, group_size).max(1)

    def __len__(self):
        return len(self.length)

    def describe(self, split):
        return f"{len(self)} {split} {self.unit}"

    def expand(self, indices):
        return (np.asarray(indices)[:, None] * self.group_size + np.arange(self.group_size)).ravel()

    def batch(self, indices, device):
        """(src, seg) [len(indices), group_size, longest]: an example's rows stay together when DataParallel
        splits a batch over GPUs."""
        src, seg = self.rows.batch(self.expand(indices), device)
        return src.view(len(indices), self.group_size, -1), seg.view(len(indices), self.group_size, -1)

    def field(self, name, indices, device):
        return torch.from_numpy(self.fields[name][indices]).to(device)


def encode_pairs(tokenizer, texts_a, texts_b=None, seq_length=128):
    """[CLS] a [SEP] (b [SEP]) per example, cut to seq_length (as UER-py; None: not cut): (sequences, a_lens)."""
    vocab = tokenizer.vocab
    cls, sep = vocab.get(CLS_TOKEN), vocab.get(SEP_TOKEN)
    ids_a = tokenizer.encode_batch(texts_a)
    ids_b = tokenizer.encode_batch(texts_b) if texts_b is not None else [None] * len(ids_a)
    sequences, a_lens = [], []
    for a, b in zip(ids_a, ids_b):
        seq = [cls] + a + [sep]
        a_lens.append(min(len(seq), seq_length or len(seq)))
        if b is not None:
            seq += b + [sep]
        sequences.append(seq[:seq_length])
    return sequences, a_lens


def training_batches(lengths, batch_size, rng, bucket_batches=64, groups=None):
    """Index arrays of one epoch: shuffled, then sorted by length within buckets of bucket_batches batches
    (so a batch pads little), then the batches shuffled. With `groups` (e.g. the task of each example), no
    batch mixes two groups."""
    order = rng.permutation(len(lengths))
    parts = [order] if groups is None else [order[groups[order] == g] for g in np.unique(groups)]
    batches = []
    span = batch_size * bucket_batches
    for part in parts:
        for lo in range(0, len(part), span):
            chunk = part[lo:lo + span]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def evaluation_batches(lengths, batch_size):
    """Index arrays sorted by length (predictions are put back in input order by the caller)."""
    order = np.argsort(lengths, kind="stable")
    return [order[k:k + batch_size] for k in range(0, len(order), batch_size)]
