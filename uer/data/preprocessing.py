"""The preprocess.py pipeline: tokenize (parallel) -> build instances per block (parallel) -> dataset file.

Determinism: blocks are fixed groups of --docs_buffer_size documents, cut into fixed parts, and each part draws
from its own generator seeded by (--seed, block, part), so the dataset is the same whatever --processes_num is.
Memory: workers hold one batch of lines (tokenizing) or one block (building instances) at a time.
"""
import multiprocessing as mp
import os
import shutil
import tempfile
from types import SimpleNamespace

import numpy as np

from uer.data import corpus
from uer.core.constants import CLS_TOKEN, SEP_TOKEN, MASK_TOKEN, SPECIAL_TOKENS
from uer.data.dataset_io import DatasetWriter
from uer.core.errors import UserInputError
from uer.data.targets import LABELLED_TARGETS, str2data
from uer.data.instances import assemble, assemble_word_starts, layout_positions, python_rng
from uer.data.masking import mask_matrix
from uer.data.seq2seq_data import preprocess_settings
from uer.data.llm_data import packed_build
from uer.text.chat_template import load_chat_template
from uer.text.tokenizers import load_tgt_vocab, target_tokenizer_args
from uer.monitor.progress import progress
from uer.text.segmenters import load_segmenter

FORMAT_VERSION = 1
INSTANCE_FIELDS = (("a_start", np.int64), ("a_len", np.int32), ("b_start", np.int64), ("b_len", np.int32),
                   ("label", np.int32))
MASK_CHUNK = 4096
PART_DOCS = 1000
JOB_BYTES = 2 << 20  # tokenizing jobs are at most this large, so that progress moves on a large corpus


def token_dtype(vocab_size):
    return np.uint16 if vocab_size <= np.iinfo(np.uint16).max + 1 else np.uint32


def plan_blocks(records_path, mode, docs_per_block):
    """Yield (record_start, record_end, token_start, token_end, documents) per block of documents."""
    records = np.fromfile(records_path, dtype=np.int32) if os.path.getsize(records_path) else np.zeros(0, np.int32)
    width = {"labeled": 3, "parallel": 2}.get(mode, 1)
    if width > 1:
        tok = (records[0::width].astype(np.int64) + records[1::width])
        doc_ends = np.arange(1, len(tok) + 1) * width
    elif mode in ("documents", "plain", "jsonl"):
        tok = records.astype(np.int64)
        doc_ends = np.arange(1, len(records) + 1)
    else:
        tok = np.maximum(records, 0).astype(np.int64)
        doc_ends = np.flatnonzero(records == -1) + 1
        if len(records) and records[-1] != -1:
            doc_ends = np.append(doc_ends, len(records))
    tok_cum = np.concatenate([[0], np.cumsum(tok)])
    cuts = np.concatenate([[0], doc_ends[docs_per_block - 1::docs_per_block]])
    if len(doc_ends) and cuts[-1] != doc_ends[-1]:
        cuts = np.append(cuts, doc_ends[-1])
    doc_index = np.searchsorted(doc_ends, cuts, side="right")  # documents ending at or before each cut
    for (a, b), (da, db) in zip(zip(cuts, cuts[1:]), zip(doc_index, doc_index[1:])):
        yield int(a), int(b), int(tok_cum[a // width]), int(tok_cum[b // width]), int(db - da)


_cached_block = (None, None)


def read_block(job):
    """A block's documents and token ids; kept per worker, since consecutive parts of a block share them."""
    global _cached_block
    key = (job["records_path"], job["rec_start"])
    if _cached_block[0] != key:
        _cached_block = (key, load_block(job))
    return _cached_block[1]


def load_block(job):
    recs = np.fromfile(job["records_path"], dtype=np.int32, count=job["rec_end"] - job["rec_start"],
                       offset=job["rec_start"] * 4)
    start = job["tok_start"]
    mode = job["mode"]
    block = {"token_start": start}
    if mode in ("documents", "plain", "jsonl"):
        block["doc_len"] = recs.astype(np.int64)
        block["doc_start"] = start + np.concatenate([[0], np.cumsum(block["doc_len"])[:-1]])
    elif mode in ("labeled", "parallel"):
        width = 3 if mode == "labeled" else 2
        block["len_a"], block["len_b"] = recs[0::width], recs[1::width]
        block["label"] = recs[2::3] if mode == "labeled" else np.zeros(len(block["len_a"]), np.int32)
        sizes = block["len_a"].astype(np.int64) + block["len_b"]
        block["a_start"] = start + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    else:
        # Documents as lists (fast to index from the per-document Python loop): sentence starts and lengths,
        # and per document its first sentence and sentence count. Empty sentences were never written.
        breaks = recs == -1
        lens = np.where(breaks, 0, recs).astype(np.int64)
        starts = start + np.cumsum(lens) - lens
        doc_id = np.cumsum(breaks)[~breaks]
        firsts = np.flatnonzero(np.diff(doc_id, prepend=-1)) if len(doc_id) else np.zeros(0, dtype=np.int64)
        block["sent_start"] = starts[~breaks].tolist()
        block["sent_len"] = lens[~breaks].tolist()
        block["doc_first"] = firsts.tolist()
        block["doc_count"] = np.diff(np.append(firsts, len(doc_id))).tolist()
    if job["opts"]["static_masks"]:
        dtype = np.dtype(job["opts"]["token_dtype"])
        block["tokens"] = np.fromfile(job["tokens_path"], dtype=dtype, count=job["tok_end"] - start,
                                      offset=start * dtype.itemsize)
        if job["opts"]["whole_word_masking"]:
            block["word_start"] = np.fromfile(word_starts_path(job["tokens_path"]), dtype=np.uint8,
                                              count=job["tok_end"] - start, offset=start)
    return block


def build_block(job):
    """Worker: instances (and static masks) of one block."""
    opts = SimpleNamespace(**job["opts"])
    data = str2data[opts.target]
    block = read_block(job)
    if data.mode == "sentences":
        lo, hi = job["docs"]
        block = dict(block, build_docs=range(lo, min(hi, len(block["doc_first"]))))
        if not block["build_docs"]:
            return None
    if opts.packing:
        inst, pieces = packed_build(data, block, opts)
    else:
        inst, pieces = data.build(block, opts, python_rng(opts.seed, job["block"], job["part"])), None
    n = len(inst["a_len"])
    order = np.random.default_rng([opts.seed, job["block"], job["part"], 1]).permutation(n)
    if pieces is not None:  # each row's piece lengths follow it
        offsets = np.concatenate([[0], np.cumsum(inst["piece_count"], dtype=np.int64)])
        inst["piece_len"] = np.concatenate([pieces[offsets[i]:offsets[i + 1]] for i in order] or [pieces[:0]])
        order_keys = [k for k in inst if k != "piece_len"]
        inst.update({k: inst[k][order] for k in order_keys})
        return inst
    inst = {k: v[order] for k, v in inst.items()}
    if opts.static_masks and n:
        inst.update(static_masks(job, opts, inst, block["tokens"], block.get("word_start")))
    return inst


def static_masks(job, opts, inst, store, word_start=None):
    rng = np.random.default_rng([opts.seed, job["block"], job["part"], 2])
    span = (opts.span_geo_prob, opts.span_max_length) if opts.span_masking else None
    layout = str2data[opts.target].layout
    counts, positions, replacements = [], [], []
    for lo in range(0, len(inst["a_len"]), MASK_CHUNK):
        part = {k: v[lo:lo + MASK_CHUNK] for k, v in inst.items()}
        places = layout_positions(part, layout, job["tok_start"])
        ids, _ = assemble(store, part, layout, opts.cls_id, opts.sep_id, positions=places)
        starts = None if word_start is None else assemble_word_starts(word_start, places)
        candidate = ~np.isin(ids, opts.special_ids)
        masked, chosen = mask_matrix(ids, candidate, rng, opts.vocab_size, opts.mask_id, opts.special_ids, span,
                                     starts)
        counts.append(chosen.sum(1).astype(np.int32))
        positions.append(np.nonzero(chosen)[1].astype(np.uint16))
        replacements.append(masked[chosen].astype(opts.token_dtype))
    return {"mask_count": np.concatenate(counts), "mask_pos": np.concatenate(positions),
            "mask_tok": np.concatenate(replacements)}


def pool_map(func, jobs, processes):
    if processes <= 1 or len(jobs) <= 1:
        yield from map(func, jobs)
        return
    with mp.get_context("fork").Pool(min(processes, len(jobs))) as pool:
        yield from pool.imap(func, jobs)


def run(args, vocab):
    data = str2data[args.target]
    validate(args, data)
    tgt_vocab = load_tgt_vocab(args)
    extra = preprocess_settings(args, vocab, tgt_vocab)
    args.tgt_seq_length = extra.get("tgt_seq_length")
    if not data.duplicates:
        args.dup_factor = 1
    dtype = token_dtype(max(len(vocab), len(tgt_vocab) if tgt_vocab else 0))
    out_dir = os.path.dirname(os.path.abspath(args.dataset_path))
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".preprocess-", dir=out_dir)
    try:
        tokens_path, records_path = tokenize(args, data, dtype, work)
        inst_paths, labels_max, count = build_instances(args, data, vocab, dtype, work, tokens_path, records_path)
        header = dict(dataset_header(args, data, vocab, dtype, count, labels_max), **extra)
        writer = DatasetWriter(args.dataset_path)
        writer.add_raw_file("tokens", dtype, tokens_path)
        if data.sentence_starts:
            writer.add_raw_file("sent_start", np.uint8, write_sentence_starts(records_path, tokens_path))
        if args.whole_word_masking:
            writer.add_raw_file("word_start", np.uint8, word_starts_path(tokens_path))
        if data.token_flags:
            writer.add_raw_file("token_flags", np.uint8, word_starts_path(tokens_path))
        for name, path, dt in inst_paths:
            writer.add_raw_file(name, dt, path)
        writer.write(header)
        return header
    finally:
        shutil.rmtree(work, ignore_errors=True)


def validate(args, data):
    if args.seq_length < 5:
        raise UserInputError(f"--seq_length {args.seq_length} is too short; at least 5 tokens are needed")
    if args.dup_factor < 1:
        raise UserInputError("--dup_factor must be at least 1")
    if not 0 <= args.short_seq_prob <= 1:
        raise UserInputError("--short_seq_prob must be between 0 and 1")
    if args.span_masking and not data.masked:
        raise UserInputError(f"--span_masking applies to masked-LM targets (mlm, bert, albert), not {args.target}")
    if args.full_sentences and not data.packs_documents:
        packing = sorted(name for name, d in str2data.items() if d.packs_documents)
        raise UserInputError(f"--full_sentences packs documents of --target {', '.join(packing)}, not {args.target}")
    check_decoder_rows(args, data)
    if args.dynamic_masking and not data.masked:
        raise UserInputError(f"--dynamic_masking applies to masked-LM targets (mlm, bert, albert), not {args.target}")
    validate_words(args, data)
    if not os.path.isfile(args.corpus_path):
        kind = "is a directory, expected a corpus file" if os.path.isdir(args.corpus_path) else "corpus file not found"
        raise UserInputError(f"{args.corpus_path}: {kind}")


def check_decoder_rows(args, data):
    """--packing, --train_on_prompt and --chat_template, and the chat target's tokenizer and template (loaded
    here once, so that a missing one fails before any work)."""
    if args.packing and not data.packable:
        packable = sorted(name for name, d in str2data.items() if d.packable)
        raise UserInputError(f"--packing applies to the decoder targets ({', '.join(packable)}), not {args.target}")
    if args.packing and args.full_sentences:
        raise UserInputError("--packing and --full_sentences exclude each other: --full_sentences lets documents "
                             "see each other, --packing keeps them apart")
    if args.train_on_prompt and not data.token_flags:
        raise UserInputError(f"--train_on_prompt applies to --target llm_sft and chat, not {args.target}")
    if args.chat_template and args.target != "chat":
        raise UserInputError(f"--chat_template applies to --target chat, not {args.target}")
    if args.target == "chat":
        if args.tokenizer != "hf":
            raise UserInputError("--target chat renders conversations with a HuggingFace tokenizer's chat template: "
                                 "--tokenizer hf --tokenizer_path tokenizer.json")
        load_chat_template(args.tokenizer_path, args.chat_template)


def decoder_rows(data, args):
    """Whether batches are made by llm_data.decoder_batch (their own loss mask; id 0 may then be a real token)."""
    return bool(data.decoder_rows or args.packing)


def validate_words(args, data):
    if not args.whole_word_masking:
        if args.segmenter or args.user_dict_path:
            raise UserInputError("--segmenter and --user_dict_path apply with --whole_word_masking")
        return
    if not data.masked:
        raise UserInputError(f"--whole_word_masking applies to masked-LM targets (mlm, bert, albert), "
                             f"not {args.target}")
    if args.span_masking:
        raise UserInputError("--whole_word_masking and --span_masking exclude each other: choose one")
    if args.spm_model_path:
        raise UserInputError("--whole_word_masking needs token positions in the text, which the bert, char and "
                             "space tokenizers give and sentencepiece pieces do not; use --vocab_path")
    args.segmenter = args.segmenter or "jieba"


def write_sentence_starts(records_path, tokens_path):
    """A file of one uint8 per stored token of a sentences-mode corpus: 1 where a sentence starts."""
    records = np.fromfile(records_path, dtype=np.int32)
    lengths = records[records >= 0].astype(np.int64)
    flags = np.zeros(int(lengths.sum()), dtype=np.uint8)
    flags[np.cumsum(lengths) - lengths] = 1
    path = tokens_path + ".sent_start"
    flags.tofile(path)
    return path


def word_starts_path(tokens_path):
    return tokens_path + ".word_start"


def tokenize(args, data, dtype, work):
    size = os.path.getsize(args.corpus_path)
    ranges = corpus.split_ranges(args.corpus_path, max(max(1, args.processes_num) * 4, -(-size // JOB_BYTES)))
    tok_args = {"vocab_path": args.vocab_path, "spm_model_path": args.spm_model_path, "tokenizer": args.tokenizer,
                "tokenizer_path": args.tokenizer_path, "merges_path": args.merges_path}
    tgt_args = target_tokenizer_args(args)
    words = {"name": args.segmenter, "user_dict_path": args.user_dict_path} if args.whole_word_masking else None
    if words:  # loaded once here: a missing package or a bad dictionary fails early, and forked workers share it
        corpus.cached("segmenter", words, lambda: load_segmenter(**words))
    jsonl = {"seq_length": args.seq_length, "train_on_prompt": args.train_on_prompt, "chat": args.target == "chat",
             "chat_template": args.chat_template, "tokenizer_path": args.tokenizer_path}
    jobs = [{"path": args.corpus_path, "start": a, "end": b, "mode": data.mode, "token_dtype": np.dtype(dtype).str,
             "target": args.target, "jsonl": jsonl, "padding": not decoder_rows(data, args),
             "tokenizer_args": tok_args, "tgt_tokenizer_args": tgt_args, "segmenter": words,
             "tokens_out": os.path.join(work, f"tok{i}"),
             "records_out": os.path.join(work, f"rec{i}"), "starts_out": os.path.join(work, f"start{i}")}
            for i, (a, b) in enumerate(ranges)]
    with progress(total=size, desc="tokenizing", unit="B", unit_scale=True) as bar:
        for done in pool_map(corpus.tokenize_range, jobs, args.processes_num):
            bar.update(done)
    tokens_path, records_path = os.path.join(work, "tokens"), os.path.join(work, "records")
    corpus.concatenate([j["tokens_out"] for j in jobs], tokens_path)
    corpus.concatenate([j["records_out"] for j in jobs], records_path)
    if words or data.token_flags:
        corpus.concatenate([j["starts_out"] for j in jobs], word_starts_path(tokens_path))
    if os.path.getsize(tokens_path) == 0 and data.mode not in ("labeled", "parallel"):
        raise UserInputError(f"{args.corpus_path}: the corpus has no text to pre-train on")
    if os.path.getsize(records_path) == 0:
        raise UserInputError(f"{args.corpus_path}: the corpus is empty")
    return tokens_path, records_path


def special_ids(vocab):
    return sorted({vocab.get(t) for t in SPECIAL_TOKENS if t in vocab})


def mask_id(vocab, data):
    """The [MASK] id for the masked targets; -1 for the others (a HuggingFace tokenizer may have no mask token)."""
    return vocab.get(MASK_TOKEN) if data.masked else -1


def build_instances(args, data, vocab, dtype, work, tokens_path, records_path):
    static = data.masked and not args.dynamic_masking
    opts = {"target": args.target, "seq_length": args.seq_length, "dup_factor": args.dup_factor,
            "short_seq_prob": args.short_seq_prob, "full_sentences": args.full_sentences, "seed": args.seed,
            "dynamic_masking": args.dynamic_masking, "span_masking": args.span_masking,
            "span_geo_prob": args.span_geo_prob, "span_max_length": args.span_max_length,
            "whole_word_masking": args.whole_word_masking, "token_dtype": np.dtype(dtype).str,
            "vocab_size": len(vocab), "mask_id": mask_id(vocab, data),
            "cls_id": vocab.get(CLS_TOKEN), "sep_id": vocab.get(SEP_TOKEN), "special_ids": special_ids(vocab),
            "static_masks": static, "tgt_seq_length": args.tgt_seq_length, "packing": args.packing}
    jobs = []
    for i, (a, b, ts, te, docs) in enumerate(plan_blocks(records_path, data.mode, args.docs_buffer_size)):
        # Sentence-pair blocks are built in parts of PART_DOCS documents (each with its own generator) so that
        # one large block still keeps every process busy; random partners come from the whole block.
        parts = range(0, docs, PART_DOCS) if data.mode == "sentences" else [0]
        jobs += [{"block": i, "part": k, "docs": (lo, lo + PART_DOCS), "docs_count": min(PART_DOCS, docs - lo)
                  if data.mode == "sentences" else docs, "rec_start": a, "rec_end": b,
                  "tok_start": ts, "tok_end": te, "mode": data.mode, "records_path": records_path,
                  "tokens_path": tokens_path, "opts": opts} for k, lo in enumerate(parts)]
    fields = list(INSTANCE_FIELDS)
    if static:
        fields += [("mask_count", np.int32), ("mask_pos", np.uint16), ("mask_tok", dtype)]
    if args.packing:
        fields += [("piece_count", np.int32), ("piece_len", np.int32)]
    paths = [(name, os.path.join(work, name), dt) for name, dt in fields]
    files = {name: open(path, "wb") for name, path, _ in paths}
    count, labels_max = 0, -1
    bar = progress(total=sum(j["docs_count"] for j in jobs), desc="building instances", unit="doc",
                   unit_scale=True)
    try:
        for job, inst in zip(jobs, pool_map(build_block, jobs, args.processes_num)):
            bar.update(job["docs_count"])
            if inst is None:
                continue
            for name, _, dt in paths:
                inst[name].astype(dt, copy=False).tofile(files[name])
            count += len(inst["a_len"])
            if len(inst["label"]):
                labels_max = max(labels_max, int(inst["label"].max()))
    finally:
        bar.close()
        for f in files.values():
            f.close()
    if count == 0:
        raise UserInputError(f"{args.corpus_path}: no training instance could be built "
                             f"(documents too short for --target {args.target}?)")
    return paths, labels_max, count


def dataset_header(args, data, vocab, dtype, count, labels_max):
    header = {"format_version": FORMAT_VERSION, "target": args.target, "seq_length": args.seq_length,
              "instances": count, "vocab_size": len(vocab),
              "vocab_fingerprint": vocab.fingerprint, "vocab_source": os.path.basename(vocab.source),
              "tokenizer": args.tokenizer, "token_dtype": np.dtype(dtype).str,
              "dynamic_masking": bool(args.dynamic_masking and data.masked),
              "static_masking": bool(data.masked and not args.dynamic_masking),
              "span_masking": bool(args.span_masking), "span_geo_prob": args.span_geo_prob,
              "span_max_length": args.span_max_length, "whole_word_masking": bool(args.whole_word_masking),
              "segmenter": args.segmenter, "full_sentences": bool(args.full_sentences),
              "dup_factor": args.dup_factor, "seed": args.seed,
              "cls_id": vocab.get(CLS_TOKEN), "sep_id": vocab.get(SEP_TOKEN), "mask_id": mask_id(vocab, data),
              "special_ids": special_ids(vocab), "packing": bool(args.packing),
              "token_flags": bool(data.token_flags), "train_on_prompt": bool(args.train_on_prompt),
              "decoder_rows": decoder_rows(data, args)}
    if args.target in LABELLED_TARGETS:
        header["labels_num"] = labels_max + 1
    return header
