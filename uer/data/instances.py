"""Phase 2 of preprocessing and the shape of a training instance, per target.

An instance never copies tokens: it is one or two spans (start, length) into the dataset's token store.
Layouts:
- "pair": [CLS] A [SEP] B [SEP] (B may be empty: [CLS] A [SEP]); segment 1 for [CLS] A [SEP], 2 for B [SEP].
- "raw":  the span as stored (documents are stored as [CLS] doc [SEP]); segment 1 throughout.
"""
import random

import numpy as np

from uer.core.constants import PAD_ID


class TargetData:
    mode = "documents"      # corpus format, see uer/data/corpus.py
    layout = "raw"
    masked = False          # MLM masking applies
    duplicates = True       # --dup_factor makes new random copies
    extra_width = 0         # lm keeps one token more than seq_length (inputs + shifted targets)
    model_target = None     # the pretrain.py target it trains (None: the one of the same name)
    seq2seq = False         # trains an encoder-decoder model
    sentence_starts = False  # the dataset keeps a flag per token where a sentence starts
    batch_of = None         # (dataset, instances, indices, epoch) -> batch, for targets that build their own
    packs_documents = False  # --full_sentences applies
    packable = False        # --packing applies (decoder targets: uer/data/llm_data.py)
    token_flags = False     # a per-token flag array is stored (llm_data.TARGET_FLAG)
    decoder_rows = False    # batches by llm_data.decoder_batch, with their own loss mask (id 0 may be a real token)

    def width(self, seq_length):
        return seq_length + self.extra_width

    def build(self, block, opts, rng):
        """Instances of one block of documents: dict of arrays a_start, a_len, b_start, b_len, label."""
        raise NotImplementedError

    def batch(self, ids, seg, tgt_mlm, labels):
        """(src, tgt, seg) numpy arrays for the model, from assembled (and masked) ids."""
        raise NotImplementedError


def spans(a_start, a_len, b_start=None, b_len=None, label=None):
    n = len(a_start)
    zeros = np.zeros(n, dtype=np.int64)
    return {"a_start": np.asarray(a_start, dtype=np.int64), "a_len": np.asarray(a_len, dtype=np.int32),
            "b_start": zeros if b_start is None else np.asarray(b_start, dtype=np.int64),
            "b_len": np.zeros(n, dtype=np.int32) if b_len is None else np.asarray(b_len, dtype=np.int32),
            "label": np.zeros(n, dtype=np.int32) if label is None else np.asarray(label, dtype=np.int32)}


def chunk_stream(starts, lengths, width):
    """Cut each (start, length) stream into pieces of `width`; keep a shorter last piece of >= 2 tokens."""
    starts, lengths = np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    pieces = lengths // width + ((lengths % width) >= 2)
    owner = np.repeat(np.arange(len(starts)), pieces)
    index = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    piece_start = starts[owner] + index * width
    piece_len = np.minimum(width, starts[owner] + lengths[owner] - piece_start)
    return piece_start, piece_len


class DocumentTarget(TargetData):
    """Targets over one-document-per-line corpora: contiguous chunks, optionally across documents."""

    packs_documents = True

    def build(self, block, opts, rng):
        width = self.width(opts.seq_length)
        if opts.full_sentences:
            total = int(block["doc_len"].sum())
            starts, lengths = chunk_stream([block["token_start"]], [total], width)
        else:
            starts, lengths = chunk_stream(block["doc_start"], block["doc_len"], width)
        return spans(np.tile(starts, opts.dup_factor), np.tile(lengths, opts.dup_factor))


class MlmData(DocumentTarget):
    masked = True

    def batch(self, ids, seg, tgt_mlm, labels):
        return ids, {"mlm": tgt_mlm}, seg


class LmData(DocumentTarget):
    duplicates = False
    extra_width = 1
    packable = True

    def batch(self, ids, seg, tgt_mlm, labels):
        src, tgt = ids[:, :-1], ids[:, 1:]
        return src, {"lm": tgt}, seg[:, :-1] * (src != PAD_ID)


class BilmData(DocumentTarget):
    """ELMo: inputs are chunk[1:-1]; the forward targets are the next tokens, the backward targets the previous
    ones, so every target is a real neighbour ([CLS]/[SEP] at document edges)."""

    duplicates = False
    extra_width = 2

    def batch(self, ids, seg, tgt_mlm, labels):
        src = ids[:, 1:-1]
        real = src != PAD_ID
        return src, {"forward": ids[:, 2:] * real, "backward": ids[:, :-2] * real}, seg[:, 1:-1] * real


def truncate_pair(la, lb, max_tokens):
    """Tokens to drop from A and B: repeatedly from the longer one (B on ties), as Google BERT."""
    excess = la + lb - max_tokens
    if excess <= 0:
        return 0, 0
    ra = rb = 0
    if la > lb:
        ra = min(excess, la - lb)
    elif lb > la:
        rb = min(excess, lb - la)
    rest = excess - ra - rb
    return ra + rest // 2, rb + (rest + 1) // 2


def randint(rng, lo, hi):
    """Uniform integer in [lo, hi]; several times faster than random.randint in the per-document loop."""
    return lo + int(rng.random() * (hi - lo + 1))


def front_removals(rng, removed):
    """How many of `removed` truncated tokens come off the front (each end with probability 1/2, as Google)."""
    return bin(rng.getrandbits(removed)).count("1") if removed else 0


class SentencePairTarget(TargetData):
    """BERT-style instances from documents of sentences (Google's create_instances_from_document)."""

    mode = "sentences"
    layout = "pair"
    masked = True

    def build(self, block, opts, rng):
        out = {k: [] for k in ("a_start", "a_len", "b_start", "b_len", "label")}
        max_tokens = opts.seq_length - 3
        for _ in range(opts.dup_factor):
            for d in block["build_docs"]:
                self.document_instances(block, d, max_tokens, opts.short_seq_prob, rng, out)
        return spans(**out)

    @staticmethod
    def sentences(block, d):
        first, count = block["doc_first"][d], block["doc_count"][d]
        return block["sent_start"][first:first + count], block["sent_len"][first:first + count]

    def document_instances(self, block, d, max_tokens, short_seq_prob, rng, out):
        starts, lens = self.sentences(block, d)
        target = randint(rng, 2, max_tokens) if rng.random() < short_seq_prob else max_tokens
        i, first, length = 0, 0, 0
        while i < len(lens):
            length += lens[i]
            if i == len(lens) - 1 or length >= target:
                count = i - first + 1
                a_end = randint(rng, 1, count - 1) if count >= 2 else 1
                a_len = sum(lens[first:first + a_end])
                pair = self.second_segment(block, d, (starts, lens), first, a_end, count, a_len, target, rng)
                if pair is not None:
                    a, b, label, unused = pair
                    i -= unused
                    self.emit(a, b, label, max_tokens, rng, out)
                first, length = i + 1, 0
            i += 1

    def second_segment(self, block, d, doc, first, a_end, count, a_len, target, rng):
        """NSP: B is a random stretch of another document half of the time (label 1), else A's continuation.

        Google's script always takes a random B for a one-sentence chunk, which skews labels towards 1 on short
        documents; here such a chunk is cut in two at a random token when it is paired with its continuation.
        """
        starts, lens = doc
        if rng.random() < 0.5 or (count == 1 and lens[first] < 2):
            docs = len(block["doc_first"])
            other = d
            for _ in range(10):
                other = randint(rng, 0, docs - 1)
                if other != d:
                    break
            o_starts, o_lens = self.sentences(block, other)
            j = randint(rng, 0, len(o_lens) - 1)
            b_len, k = 0, j
            while k < len(o_lens):
                b_len += o_lens[k]
                k += 1
                if b_len >= target - a_len:
                    break
            return (starts[first], a_len), (o_starts[j], b_len), 1, count - a_end
        return self.continuation(starts, lens, first, a_end, count, a_len, rng) + (0, 0)

    @staticmethod
    def continuation(starts, lens, first, a_end, count, a_len, rng):
        """(A, B) with B following A in the document; a one-sentence chunk is cut at a random token."""
        if count == 1:
            cut = randint(rng, 1, lens[first] - 1)
            return (starts[first], cut), (starts[first] + cut, lens[first] - cut)
        return (starts[first], a_len), (starts[first + a_end], sum(lens[first + a_end:first + count]))

    @staticmethod
    def emit(a, b, label, max_tokens, rng, out):
        ra, rb = truncate_pair(a[1], b[1], max_tokens)
        fa, fb = front_removals(rng, ra), front_removals(rng, rb)
        out["a_start"].append(a[0] + fa)
        out["a_len"].append(a[1] - ra)
        out["b_start"].append(b[0] + fb)
        out["b_len"].append(b[1] - rb)
        out["label"].append(label)


class BertData(SentencePairTarget):
    def batch(self, ids, seg, tgt_mlm, labels):
        return ids, {"mlm": tgt_mlm, "label": labels}, seg


class AlbertData(BertData):
    """Sentence order prediction: B always follows A in the document; label 1 when they are swapped."""

    def second_segment(self, block, d, doc, first, a_end, count, a_len, target, rng):
        starts, lens = doc
        if count == 1 and lens[first] < 2:
            return None
        a, b = self.continuation(starts, lens, first, a_end, count, a_len, rng)
        if rng.random() < 0.5:
            return b, a, 1, 0
        return a, b, 0, 0


class ClsData(TargetData):
    """One instance per labeled line: [CLS] text_a [SEP] (text_b [SEP])."""

    mode = "labeled"
    layout = "pair"
    duplicates = False

    def build(self, block, opts, rng):
        la, lb = block["len_a"].astype(np.int64), block["len_b"].astype(np.int64)
        room = opts.seq_length - 2
        lb_kept = np.clip(room - la - 1, 0, lb)          # text_b (and its [SEP]) goes first
        la_kept = np.minimum(la, room - np.where(lb_kept > 0, lb_kept + 1, 0))
        return spans(block["a_start"], la_kept, block["a_start"] + la, lb_kept, block["label"])

    def batch(self, ids, seg, tgt_mlm, labels):
        return ids, {"label": labels, "seg": seg}, seg


class ClsMlmData(ClsData):
    """TencentPretrain's cls_mlm: the labelled lines of cls, masked as mlm (statically, or with
    --dynamic_masking when batches are drawn)."""

    masked = True

    def batch(self, ids, seg, tgt_mlm, labels):
        return ids, {"mlm": tgt_mlm, "label": labels, "seg": seg}, seg


def layout_positions(inst, layout, store_offset=0):
    """Where each position of the [n, width] instance matrix comes from (width = longest instance): the
    store index of positions filled from the store (-1 elsewhere), and for the pair layout the lengths of A and
    B and where B starts, which place [CLS] and the [SEP]s."""
    a_start, a_len = inst["a_start"] - store_offset, inst["a_len"].astype(np.int64)
    b_start, b_len = inst["b_start"] - store_offset, inst["b_len"].astype(np.int64)
    if layout == "raw":
        lengths = a_len
    else:
        lengths = a_len + 2 + np.where(b_len > 0, b_len + 1, 0)
    width = int(lengths.max()) if len(lengths) else 0
    j = np.arange(width)[None, :]
    index = np.full((len(a_len), width), -1, dtype=np.int64)
    if layout == "raw":
        inside = j < a_len[:, None]
        index[inside] = (a_start[:, None] + j)[inside]
        return index, lengths, None
    in_a = (j >= 1) & (j <= a_len[:, None])
    b0 = a_len[:, None] + 2
    in_b = (j >= b0) & (j < b0 + b_len[:, None])
    index[in_a] = (a_start[:, None] + j - 1)[in_a]
    index[in_b] = (b_start[:, None] + j - b0)[in_b]
    return index, lengths, (a_len, b_len, b0)


def assemble(store, inst, layout, cls_id, sep_id, store_offset=0, positions=None):
    """Token ids and segments [n, width] for instances (dict of span arrays); width = longest instance.

    `store` holds token ids; `store_offset` is the global index of store[0]; `positions`, when the caller has
    them, are layout_positions() of the same instances.
    """
    index, lengths, pair = positions or layout_positions(inst, layout, store_offset)
    from_store = index >= 0
    ids = np.zeros(index.shape, dtype=np.int64)
    ids[from_store] = store[index[from_store]]
    j = np.arange(index.shape[1])[None, :]
    seg = (j < lengths[:, None]).astype(np.int64)
    if pair is None:
        return ids, seg
    a_len, b_len, b0 = pair
    ids[:, 0] = cls_id
    rows = np.arange(len(a_len))
    ids[rows, a_len + 1] = sep_id
    has_b = b_len > 0
    ids[rows[has_b], (b0[:, 0] + b_len)[has_b]] = sep_id
    seg[(j >= b0) & (j < lengths[:, None]) & has_b[:, None]] = 2
    return ids, seg


def assemble_word_starts(word_start, positions):
    """Word-start flags [n, width] laid out as assemble() lays out tokens from the same layout_positions()
    (1 where nothing comes from the store)."""
    index = positions[0]
    from_store = index >= 0
    starts = np.ones(index.shape, dtype=bool)
    starts[from_store] = word_start[index[from_store]] != 0
    return starts


def python_rng(seed, *keys):
    return random.Random("-".join(str(k) for k in (seed,) + keys))
