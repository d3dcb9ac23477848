"""The data side of the text-to-text targets (mt, t5, bart, gsg) and of prefixlm.

An instance is stored as spans into the token store like the others: mt and prefixlm keep the source as A and
the target as B; t5, bart and gsg keep one stretch of text as A. The noise of t5 and bart (and gsg's random
sentence choice) is drawn when a batch is drawn, from a generator keyed by (seed, epoch, instance): a new
corruption each epoch, as T5's and BART's own pipelines do, and the same whatever the number of processes.

Encoder-decoder batches: the source is [CLS] source [SEP]; the labels are target [SEP]; the decoder reads
[start] target, start being the config's "decoder_start_token_id" or [CLS].
"""
import os

import numpy as np

from uer.core.constants import PAD_ID, MASK_TOKEN, CLS_TOKEN, SEP_TOKEN
from uer.core.errors import UserInputError
from uer.data.instances import TargetData, spans, chunk_stream

SENTINEL = "<extra_id_{}>"


def pad_rows(rows):
    """[n, longest] int64 matrix of id lists, padded with PAD_ID."""
    out = np.full((len(rows), max((len(r) for r in rows), default=0)), PAD_ID, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out


def seq2seq_batch(sources, targets, cls_id, sep_id, start_id, end_id):
    """(src, {"tgt_in", "tgt_seg", "lm"}, seg) for lists of source and target id arrays (without specials)."""
    src = pad_rows([np.concatenate([[cls_id], s, [sep_id]]) for s in sources])
    labels = pad_rows([np.concatenate([t, [end_id]]) for t in targets])
    tgt_in = pad_rows([np.concatenate([[start_id], t]) for t in targets])
    return src, {"tgt_in": tgt_in, "tgt_seg": (labels != PAD_ID).astype(np.int64), "lm": labels}, \
        (src != PAD_ID).astype(np.int64)


class Seq2seqTarget(TargetData):
    seq2seq = True
    duplicates = False
    model_target = "lm"

    def batch_of(self, dataset, inst, indices, epoch):
        store, h = dataset.arrays["tokens"], dataset.header
        sources, targets = [], []
        for k, i in enumerate(indices):
            a = np.asarray(store[inst["a_start"][k]:inst["a_start"][k] + inst["a_len"][k]], dtype=np.int64)
            b = np.asarray(store[inst["b_start"][k]:inst["b_start"][k] + inst["b_len"][k]], dtype=np.int64)
            rng = np.random.default_rng([dataset.seed, epoch, int(i)])
            source, target = self.corrupt(a, b, dataset, int(inst["a_start"][k]), rng)
            sources.append(source)
            targets.append(target)
        # the target side's [CLS] and [SEP] are those of its own vocabulary when it has one
        tgt_cls, tgt_sep = h.get("tgt_cls_id", h["cls_id"]), h.get("tgt_sep_id", h["sep_id"])
        return seq2seq_batch(sources, targets, h["cls_id"], h["sep_id"], dataset.decoder_start(tgt_cls), tgt_sep)

    def corrupt(self, a, b, dataset, a_start, rng):
        """(source ids, target ids) of one instance."""
        return a, b


class MtData(Seq2seqTarget):
    """A parallel corpus: source<TAB>target per line, the target in the target vocabulary when there is one."""

    mode = "parallel"

    def build(self, block, opts, rng):
        la = np.minimum(block["len_a"], opts.seq_length - 2)
        lb = np.minimum(block["len_b"], opts.tgt_seq_length - 1)
        return spans(block["a_start"], la, block["a_start"] + block["len_a"], lb)


class PrefixLmData(TargetData):
    """A decoder-only model reads [CLS] source [SEP] target [SEP] (segments 1 and 2) and is scored on the target
    side only: the loss covers the next tokens from the first target token to the last [SEP]."""

    mode = "parallel"
    layout = "pair"
    duplicates = False
    model_target = "lm"
    extra_width = 1

    def build(self, block, opts, rng):
        room = opts.seq_length + self.extra_width - 3
        la, lb = block["len_a"].astype(np.int64), block["len_b"].astype(np.int64)
        la_kept = np.minimum(la, np.maximum(room // 2, room - lb))
        return spans(block["a_start"], la_kept, block["a_start"] + la, np.minimum(lb, room - la_kept))

    def batch(self, ids, seg, tgt_mlm, labels):
        src, following = ids[:, :-1], ids[:, 1:]
        return src, {"lm": following * (seg[:, 1:] == 2)}, seg[:, :-1] * (src != PAD_ID)


class T5Data(Seq2seqTarget):
    """Span corruption (T5): --seq_length - 2 tokens of a document; round(15%) of them, in round(noise / 3)
    spans, are each replaced by a sentinel <extra_id_k> in the source; the target lists each sentinel followed
    by the span it replaced. Spans and the stretches between them are random segmentations, as T5's
    random_spans_noise_mask (the text starts with a kept stretch)."""

    mode = "plain"
    packs_documents = True

    def build(self, block, opts, rng):
        if opts.full_sentences:
            starts, lengths = chunk_stream([block["token_start"]], [int(block["doc_len"].sum())], opts.seq_length - 2)
        else:
            starts, lengths = chunk_stream(block["doc_start"], block["doc_len"], opts.seq_length - 2)
        return spans(starts, lengths)

    @staticmethod
    def spans_count(length, density, mean_length):
        noise = min(max(int(round(length * density)), 1), length - 1)
        return noise, max(1, min(int(round(noise / mean_length)), noise, length - noise))

    def corrupt(self, a, b, dataset, a_start, rng):
        h = dataset.header
        noise, count = self.spans_count(len(a), h["noise_density"], h["mean_noise_span_length"])
        noise_lens = random_segmentation(noise, count, rng)
        kept_lens = random_segmentation(len(a) - noise, count, rng)
        sentinels = np.asarray(h["sentinel_ids"][:count], dtype=np.int64)
        bounds = np.cumsum(np.stack([kept_lens, noise_lens], 1).ravel())
        pieces = np.split(a, bounds[:-1])
        source = np.concatenate([x for k in range(count) for x in (pieces[2 * k], sentinels[k:k + 1])])
        target = np.concatenate([x for k in range(count) for x in (sentinels[k:k + 1], pieces[2 * k + 1])])
        return source, target


def random_segmentation(items, segments, rng):
    """Lengths of `segments` non-empty parts of `items` items, uniformly over the ways to cut them."""
    cuts = np.sort(rng.choice(items - 1, segments - 1, replace=False)) + 1 if segments > 1 else np.zeros(0, int)
    return np.diff(np.concatenate([[0], cuts, [items]])).astype(np.int64)


class SentenceChunks(Seq2seqTarget):
    """Instances of whole consecutive sentences of a document (BERT's corpus format), at most --seq_length - 2
    tokens (a longer sentence is cut); the dataset keeps where each sentence starts."""

    mode = "sentences"
    sentence_starts = True
    min_sentences = 1

    def build(self, block, opts, rng):
        room = opts.seq_length - 2
        out = {"starts": [], "lens": []}
        for d in block["build_docs"]:
            first, count = block["doc_first"][d], block["doc_count"][d]
            chunk = []
            for s in range(first, first + count):
                full = block["sent_len"][s]
                length = min(full, room)
                if chunk and sum(n for _, n in chunk) + length > room:
                    chunk = self.emit(chunk, out)
                chunk.append((block["sent_start"][s], length))
                if length < full:  # a cut sentence ends its chunk, so that chunks stay contiguous
                    chunk = self.emit(chunk, out)
            self.emit(chunk, out)
        return spans(out["starts"], out["lens"])

    def emit(self, chunk, out):
        if len(chunk) >= self.min_sentences:
            out["starts"].append(chunk[0][0])
            out["lens"].append(sum(n for _, n in chunk))
        return []

    @staticmethod
    def sentences(a, dataset, a_start):
        flags = np.asarray(dataset.arrays["sent_start"][a_start:a_start + len(a)], dtype=bool)
        flags[0] = True
        return np.split(a, np.flatnonzero(flags)[1:])


class BartData(SentenceChunks):
    """BART's denoising: the sentences of the instance in a random order, then text infilling: spans of
    Poisson(3) lengths cover --noise_density (30%) of the tokens and each becomes one [MASK] (a span of length 0
    inserts one); the target is the original text."""

    def corrupt(self, a, b, dataset, a_start, rng):
        sents = self.sentences(a, dataset, a_start)
        permuted = np.concatenate([sents[k] for k in rng.permutation(len(sents))])
        return infill(permuted, dataset.header["noise_density"], dataset.header["mask_id"], rng), a


def infill(tokens, density, mask_id, rng, poisson_lambda=3.0):
    """Text infilling: spans of Poisson lengths covering round(density * n) tokens, placed at random without
    overlapping (the kept tokens are cut into random, possibly empty, gaps between them); each span becomes one
    mask, a span of length 0 inserts one."""
    n = len(tokens)
    budget = int(round(n * density))
    lengths = []
    while sum(lengths) < budget:
        lengths.append(int(rng.poisson(poisson_lambda)))
    if not lengths:
        return tokens
    lengths = np.asarray(lengths, dtype=np.int64)
    lengths[-1] -= lengths.sum() - budget
    k = len(lengths)
    bars = np.sort(rng.choice(n - budget + k, k, replace=False))  # stars and bars: k+1 gaps summing to n-budget
    gaps = np.diff(np.concatenate([[-1], bars])) - 1
    starts = np.cumsum(gaps) + np.concatenate([[0], np.cumsum(lengths)[:-1]])
    masked, inserted = np.zeros(n, dtype=bool), np.zeros(n + 1, dtype=bool)
    for start, length in zip(starts, lengths):
        masked[start:start + length] = True
        inserted[start] |= length == 0
    keep = ~masked | np.concatenate([[True], ~masked[:-1]])  # a masked run keeps its first place, as the mask
    values = np.stack([np.full(n, mask_id), np.where(masked, mask_id, tokens)], 1).ravel()
    emitted = np.stack([inserted[:n] & ~masked, keep], 1).ravel()  # an inserted mask goes before its token
    return np.concatenate([values[emitted], [mask_id] * int(inserted[n])]).astype(np.int64)


class GsgData(SentenceChunks):
    """PEGASUS's gap sentences: round(--gap_sentences_ratio x sentences) of the instance's sentences (at least
    one, and it needs two) are each replaced by one [MASK] in the source; the target is those sentences in their
    order. --sentence_selection_strategy: principal (highest ROUGE-1 F1 against the rest, PEGASUS's Ind-Orig),
    lead (the first ones) or random."""

    min_sentences = 2

    def corrupt(self, a, b, dataset, a_start, rng):
        h = dataset.header
        sents = self.sentences(a, dataset, a_start)
        count = min(len(sents) - 1, max(1, int(round(len(sents) * h["gap_sentences_ratio"]))))
        chosen = set(select_sentences(sents, count, h["sentence_selection_strategy"], rng))
        mask = np.asarray([h["mask_id"]], dtype=np.int64)
        source = np.concatenate([mask if k in chosen else s for k, s in enumerate(sents)])
        return source, np.concatenate([s for k, s in enumerate(sents) if k in chosen])


def select_sentences(sents, count, strategy, rng):
    if strategy == "lead":
        return range(count)
    if strategy == "random":
        return rng.choice(len(sents), count, replace=False).tolist()
    scores = [rouge1_f1(s, np.concatenate([t for j, t in enumerate(sents) if j != k])) for k, s in enumerate(sents)]
    return np.argsort(-np.asarray(scores), kind="stable")[:count].tolist()


def rouge1_f1(candidate, reference):
    """ROUGE-1 F1 of two token id arrays (clipped unigram overlap)."""
    if not len(candidate) or not len(reference):
        return 0.0
    ids, counts_c = np.unique(candidate, return_counts=True)
    ref_ids, counts_r = np.unique(reference, return_counts=True)
    both, ic, ir = np.intersect1d(ids, ref_ids, return_indices=True)
    overlap = np.minimum(counts_c[ic], counts_r[ir]).sum()
    if not overlap:
        return 0.0
    precision, recall = overlap / len(candidate), overlap / len(reference)
    return float(2 * precision * recall / (precision + recall))




def preprocess_settings(args, vocab, tgt_vocab):
    """Header entries of a --target mt/t5/bart/gsg/prefixlm dataset, after checking the flags against the target
    and the vocabulary (one-line errors)."""
    target = args.target
    given = {"--tgt_seq_length": (args.tgt_seq_length, ("mt",)),
             "--noise_density": (args.noise_density, ("t5", "bart")),
             "--tgt_vocab_path/--tgt_spm_model_path/--tgt_tokenizer": (tgt_vocab or args.tgt_tokenizer, ("mt",)),
             "--mean_noise_span_length": (args.mean_noise_span_length, ("t5",)),
             "--gap_sentences_ratio": (args.gap_sentences_ratio, ("gsg",)),
             "--sentence_selection_strategy": (args.sentence_selection_strategy, ("gsg",))}
    for flag, (value, users) in given.items():
        if value is not None and target not in users:
            raise UserInputError(f"{flag} applies to --target {' and '.join(users)}, not {target}")
    args.mean_noise_span_length = args.mean_noise_span_length or 3.0
    args.gap_sentences_ratio = 0.3 if args.gap_sentences_ratio is None else args.gap_sentences_ratio
    args.sentence_selection_strategy = args.sentence_selection_strategy or "principal"
    header = {}
    if target == "mt":
        header["tgt_seq_length"] = args.tgt_seq_length or args.seq_length
        if header["tgt_seq_length"] < 2:
            raise UserInputError("--tgt_seq_length must be at least 2 (a token and the end token)")
        if tgt_vocab is not None:
            missing = [t for t in (CLS_TOKEN, SEP_TOKEN) if tgt_vocab.get(t) is None]
            if missing:
                raise UserInputError(f"{tgt_vocab.source}: no {missing[0]} token, which starts and ends the targets")
            header.update(tgt_vocab_size=len(tgt_vocab), tgt_vocab_fingerprint=tgt_vocab.fingerprint,
                          tgt_vocab_source=os.path.basename(tgt_vocab.source), tgt_cls_id=tgt_vocab.get(CLS_TOKEN),
                          tgt_sep_id=tgt_vocab.get(SEP_TOKEN))
    if target in ("t5", "bart"):
        header["noise_density"] = args.noise_density if args.noise_density is not None else \
            (0.15 if target == "t5" else 0.3)
        if not 0 < header["noise_density"] < 1:
            raise UserInputError(f"--noise_density must be between 0 and 1, not {header['noise_density']}")
    if target == "t5":
        header["mean_noise_span_length"] = args.mean_noise_span_length
        if args.mean_noise_span_length < 1:
            raise UserInputError("--mean_noise_span_length must be at least 1")
        header["sentinel_ids"] = sentinel_ids(vocab, T5Data.spans_count(args.seq_length - 2, header["noise_density"],
                                                                        args.mean_noise_span_length)[1])
    if target == "gsg":
        if not 0 < args.gap_sentences_ratio < 1:
            raise UserInputError("--gap_sentences_ratio must be between 0 and 1")
        header.update(gap_sentences_ratio=args.gap_sentences_ratio,
                      sentence_selection_strategy=args.sentence_selection_strategy)
    if target in ("bart", "gsg"):
        if vocab.get(MASK_TOKEN) is None:
            raise UserInputError(f"{vocab.source}: no {MASK_TOKEN} token, which --target {target} puts in place of "
                                 "the text it removes")
        header["mask_id"] = vocab.get(MASK_TOKEN)
    return header


def sentinel_ids(vocab, count):
    """Ids of <extra_id_0> .. <extra_id_{count-1}>: the spans a --seq_length instance can have."""
    missing = [SENTINEL.format(k) for k in range(count) if SENTINEL.format(k) not in vocab]
    if missing:
        raise UserInputError(f"{vocab.source}: no sentinel token {missing[0]}; --target t5 needs "
                             f"{SENTINEL.format(0)} .. {SENTINEL.format(count - 1)} in the vocabulary for --seq_length "
                             "instances (add them at its end, or lower --seq_length or --noise_density)")
    return [vocab.get(SENTINEL.format(k)) for k in range(count)]
