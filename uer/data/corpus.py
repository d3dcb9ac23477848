"""Phase 1 of preprocessing: tokenize byte ranges of the corpus in worker processes.

Each worker writes its token ids and a stream of int32 *records* to part files; concatenated in order, the
parts are the same whatever the number of processes. Record streams by corpus mode:

- "documents" (one document per line; targets mlm, lm): one record per document = its length,
  tokens stored as [CLS] doc [SEP].
- "sentences" (BERT format; targets bert, albert): one record per sentence = its length; -1 marks a blank
  line (document break).
- "labeled" (label<TAB>text_a[<TAB>text_b]; target cls): three records per line: len_a, len_b, label.
- "parallel" (source<TAB>target; targets mt, prefixlm): two records per line: len_source, len_target; the
  target side is tokenized with the target tokenizer when there is one.
- "plain" (one document per line; target t5): as "documents", stored without [CLS]/[SEP].
- "jsonl" (one JSON object per line; targets llm_pretrain, llm_sft, chat): one record per example = its length;
  the target's encode() makes its tokens (uer/data/llm_data.py) and, for llm_sft and chat, a third part file of
  one flag per token (predicted or not).

With whole-word masking a third part file holds one uint8 per stored token: 1 where a word starts ([CLS] and
[SEP] start their own).
"""
import codecs
import contextlib
import os
from argparse import Namespace

import numpy as np

from uer.core.constants import CLS_TOKEN, SEP_TOKEN
from uer.core.errors import fail_at
from uer.text.segmenters import encode_with_word_starts, load_segmenter
from uer.data.targets import str2data
from uer.text.chat_template import load_chat_template
from uer.text.tokenizers import load_vocab_and_tokenizer

BATCH_BYTES = 4 << 20
_loaded = {}  # per worker process: the vocabulary, tokenizer and segmenter its jobs share


def split_ranges(path, pieces):
    """Byte ranges of roughly equal size, each starting at the beginning of a line."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as f:
        for i in range(1, pieces):
            f.seek(max(size * i // pieces, cuts[-1]))
            f.readline()
            cuts.append(min(f.tell(), size))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def line_number(path, byte_offset):
    with open(path, "rb") as f:
        return f.read(byte_offset).count(b"\n") + 1


def read_lines(path, start, end):
    """Yield (byte offset of the batch, list of lines) for the range, decoded as UTF-8 (a byte-order mark at the
    start of the file is not text)."""
    with open(path, "rb") as f:
        f.seek(start)
        pos = start
        while pos < end:
            raw = f.read(min(BATCH_BYTES, end - pos))
            if pos + len(raw) < end:
                raw += f.readline()
            raw = raw[:end - pos]
            bom = len(codecs.BOM_UTF8) if pos == 0 and raw.startswith(codecs.BOM_UTF8) else 0
            try:
                text = raw[bom:].decode("utf-8")
            except UnicodeDecodeError as e:
                fail_at(path, line_number(path, pos + bom + e.start),
                        "invalid UTF-8 bytes; the corpus must be UTF-8 text")
            lines = text.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            yield pos, [line.rstrip("\r") for line in lines]
            pos += len(raw)


def parse_labeled(path, lines, batch_offset):
    labels, texts_a, texts_b = [], [], []
    for i, line in enumerate(lines):
        fields = line.split("\t")
        if batch_offset == 0 and i == 0 and fields[0].strip().lower() == "label":
            continue  # header row
        if not line.strip():
            continue
        label = fields[0].strip()
        if len(fields) not in (2, 3) or not (label.isascii() and label.isdigit()):
            fail_at(path, line_number(path, batch_offset) + i,
                    "expected 'label<TAB>text_a' or 'label<TAB>text_a<TAB>text_b' with a label 0..n-1")
        labels.append(int(label))
        texts_a.append(fields[1])
        texts_b.append(fields[2] if len(fields) == 3 else "")
    return labels, texts_a, texts_b


def parse_parallel(path, lines, batch_offset):
    sources, targets = [], []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            fail_at(path, line_number(path, batch_offset) + i,
                    f"expected 'source<TAB>target' (one tab), found {len(fields) - 1} tabs")
        for side, text in zip(("source", "target"), fields):
            if not text.strip():
                fail_at(path, line_number(path, batch_offset) + i, f"empty {side}; expected 'source<TAB>target'")
        sources.append(fields[0])
        targets.append(fields[1])
    return sources, targets


def encode_parallel(path, lines, pos, tokenizer, tgt_tokenizer):
    """Token id lists (source, target, source, ...) and records of a batch of parallel lines."""
    sources, targets = parse_parallel(path, lines, pos)
    ids_s, ids_t = tokenizer.encode_batch(sources), tgt_tokenizer.encode_batch(targets)
    for k, (s, t) in enumerate(zip(ids_s, ids_t)):
        if not s or not t:
            side, text = ("source", sources[k]) if not s else ("target", targets[k])
            fail_at(path, find_line(path, pos, lines, text), f"the {side} has no tokens")
    return [x for s, t in zip(ids_s, ids_t) for x in (s, t)], [n for s, t in zip(ids_s, ids_t)
                                                                for n in (len(s), len(t))]


def find_line(path, pos, lines, text):
    k = next(i for i, line in enumerate(lines) if text in line.split("\t"))
    return line_number(path, pos) + k


def cached(kind, args, load):
    key = (kind,) + tuple(sorted(args.items()))
    if key not in _loaded:
        _loaded[key] = load()
    return _loaded[key]


def tokenize_range(job):
    """Worker: tokenize bytes [start, end) of the corpus into part files; returns the number of bytes."""
    vocab, tokenizer = cached("tokenizer", job["tokenizer_args"],
                              lambda: load_vocab_and_tokenizer(Namespace(**job["tokenizer_args"]),
                                                               padding=job.get("padding", True)))
    words = job.get("segmenter")
    segmenter = words and cached("segmenter", words, lambda: load_segmenter(**words))
    tgt_args = job.get("tgt_tokenizer_args")
    tgt_tokenizer = cached("tokenizer", tgt_args, lambda: load_vocab_and_tokenizer(Namespace(**tgt_args)))[1] \
        if tgt_args else tokenizer
    dtype, mode, path = np.dtype(job["token_dtype"]), job["mode"], job["path"]
    data = str2data[job["target"]] if mode == "jsonl" else None
    flagged = segmenter or (data is not None and data.token_flags)
    starts_file = open(job["starts_out"], "wb") if flagged else contextlib.nullcontext()
    with open(job["tokens_out"], "wb") as tok_f, open(job["records_out"], "wb") as rec_f, starts_file as starts_f:
        for pos, lines in read_lines(path, job["start"], job["end"]):
            if mode == "labeled":
                labels, texts_a, texts_b = parse_labeled(path, lines, pos)
                ids_a, ids_b = tokenizer.encode_batch(texts_a), tokenizer.encode_batch(texts_b)
                recs = [v for a, b, lab in zip(ids_a, ids_b, labels) for v in (len(a), len(b), lab)]
                seqs = [s for a, b in zip(ids_a, ids_b) for s in (a, b)]
            elif mode == "parallel":
                seqs, recs = encode_parallel(path, lines, pos, tokenizer, tgt_tokenizer)
            elif mode == "jsonl":
                seqs, flags = data.encode(path, lines, lambda i, p=pos: line_number(path, p) + i, tokenizer, vocab,
                                          jsonl_options(job["jsonl"]))
                recs = [len(s) for s in seqs]
                if flags is not None:
                    np.concatenate([np.zeros(0, np.uint8)] + flags).tofile(starts_f)
            else:
                seqs, recs, starts = split_lines(lines, mode, tokenizer, segmenter, vocab)
                if starts_f:
                    np.concatenate([np.zeros(0, np.uint8)] + starts).tofile(starts_f)
            flat = [t for s in seqs for t in s]
            np.asarray(flat, dtype=dtype).tofile(tok_f)
            np.asarray(recs, dtype=np.int32).tofile(rec_f)
    return job["end"] - job["start"]


def jsonl_options(options):
    """The JSONL targets' options, with the chat template loaded once per worker."""
    if options.get("chat"):
        template = cached("template", {"tokenizer_path": options["tokenizer_path"], "path": options["chat_template"]},
                          lambda: load_chat_template(options["tokenizer_path"], options["chat_template"]))
        return dict(options, template=template)
    return options


def split_lines(lines, mode, tokenizer, segmenter, vocab):
    """Token id lists and records of a batch of document/sentence lines, and word-start flags with a segmenter."""
    cls_id, sep_id = vocab.get(CLS_TOKEN), vocab.get(SEP_TOKEN)
    content = [line for line in lines if line.strip()]
    if segmenter:
        encoded, word_starts = encode_with_word_starts(tokenizer, segmenter, content)
    else:
        encoded, word_starts = tokenizer.encode_batch(content), [None] * len(content)
    encoded, word_starts = iter(encoded), iter(word_starts)
    seqs, recs, starts = [], [], []
    for line in lines:
        if not line.strip():
            if mode == "sentences":
                recs.append(-1)
            continue
        ids, flags = next(encoded), next(word_starts)
        if not ids:
            continue
        if mode == "documents":
            ids = [cls_id] + ids + [sep_id]
            flags = None if flags is None else np.concatenate([[1], flags, [1]]).astype(np.uint8)
        seqs.append(ids)
        recs.append(len(ids))
        starts.append(flags)
    return seqs, recs, starts


def concatenate(paths, out_path):
    with open(out_path, "wb") as out:
        for p in paths:
            with open(p, "rb") as f:
                while chunk := f.read(16 << 20):
                    out.write(chunk)
            os.unlink(p)
