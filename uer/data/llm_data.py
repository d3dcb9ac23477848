"""The decoder datasets of today's LLM training, made by preprocess.py from JSONL (one JSON object per line):

- llm_pretrain (TencentPretrain's data processor): {"text": ...}; each text stored as [CLS] text [SEP] and cut
  into rows of seq_length + 1 tokens, as --target lm (with --full_sentences across texts).
- llm_sft (TencentPretrain's): {"instruction", "input", "output"}; the row is [CLS] instruction+input, then
  output [SEP], at most seq_length tokens; the loss covers the output and its [SEP] (TencentPretrain's
  --prefix_lm_loss); a literal backslash-n in the fields is a line break, as there.
- chat: {"messages": [{"role": "system"|"user"|"assistant", "content": ...}, ...]} (the format of HF datasets and
  OpenAI; ShareGPT's "conversations" and TRL's prompt-completion are read as well: training_conversation),
  rendered with the tokenizer's chat template (uer/text/chat_template.py) and tokenized as transformers'
  apply_chat_template does; the loss covers the assistant turns (their text and end-of-turn), rows of at most
  seq_length + 1 tokens.
--train_on_prompt puts every token of llm_sft and chat rows under the loss. A row longer than its width keeps
its first tokens (later turns are dropped); a row left without one answer token is refused.

--packing (these and --target lm): rows are filled with consecutive examples up to the width; each attends
only within its own example (a block-diagonal causal mask) and its positions start at 0, so a packed row
computes what its examples compute apart (without the padding).
"""
import json

import numpy as np

from uer.core.constants import CLS_TOKEN, PAD_ID, SEP_TOKEN
from uer.core.errors import fail_at
from uer.data.instances import LmData, TargetData, spans, chunk_stream
from uer.text.chat_template import training_conversation

TARGET_FLAG = 1  # bit of a stored token's flag: the token is predicted (under the loss)


def json_records(path, lines, line_of, fields):
    """(line number, object) of each non-blank line; one line naming the file and line for what is wrong.
    line_of(i): the file's line number of lines[i] (counted only when it is needed)."""
    out = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            fail_at(path, line_of(i), f"invalid JSON ({e.msg} at column {e.colno}); expected one object per line")
        if not isinstance(record, dict):
            fail_at(path, line_of(i), f"expected a JSON object with {fields}, found {type(record).__name__}")
        out.append((Line(line_of, i), record))
    return out


class Line:
    """A line number computed when an error message needs it (counting lines is slow on a large corpus)."""

    def __init__(self, line_of, index):
        self.line_of, self.index = line_of, index

    def __str__(self):
        return str(self.line_of(self.index))


def text_field(path, line, record, key, required=True):
    value = record.get(key, None if required else "")
    if not isinstance(value, str):
        what = "missing" if value is None else f"not a string ({type(value).__name__})"
        fail_at(path, line, f"field {key!r} is {what}")
    return value


def check_messages(path, line, record):
    """(messages, index of the first message learned), with an assistant turn to learn."""
    messages, first = training_conversation(path, line, record)
    if not any(m["role"] == "assistant" for m in messages[first:]):
        fail_at(path, line, "the conversation has no assistant turn to learn")
    return messages, first


def cut(path, line, ids, flags, width):
    """The row's first `width` tokens; refused when no predicted token is left."""
    ids, flags = ids[:width], flags[:width]
    if not (flags[1:] & TARGET_FLAG).any():
        fail_at(path, line, f"the answer is cut away entirely by --seq_length (the row holds {width} tokens); raise "
                            "--seq_length or shorten the prompt")
    return ids, flags


class JsonlData(TargetData):
    """Rows made from JSONL examples (`encode` turns a batch of lines into token ids and per-token flags)."""
    mode = "jsonl"
    layout = "raw"
    duplicates = False
    model_target = "lm"
    extra_width = 1
    token_flags = True   # a per-token flag array (TARGET_FLAG) is stored
    decoder_rows = True
    packs_documents = False
    packable = True

    def encode(self, path, lines, line_of, tokenizer, vocab, opts):
        raise NotImplementedError

    def build(self, block, opts, rng):
        return spans(block["doc_start"], block["doc_len"])

    def batch(self, ids, seg, tgt_mlm, labels):
        raise AssertionError("rows of JSONL targets are made by decoder_batch")


class LlmPretrainData(LmData):
    """{"text"} per line, as --target lm's documents."""
    mode = "jsonl"
    decoder_rows = True
    model_target = "lm"

    def encode(self, path, lines, line_of, tokenizer, vocab, opts):
        records = json_records(path, lines, line_of, "a 'text' field")
        texts = [text_field(path, line, r, "text") for line, r in records]
        cls_id, sep_id = vocab.get(CLS_TOKEN), vocab.get(SEP_TOKEN)
        seqs = [[cls_id] + ids + [sep_id] for ids in tokenizer.encode_batch(texts)]
        return seqs, None


class LlmSftData(JsonlData):
    """{"instruction", "input", "output"} per line; TencentPretrain's rows of at most seq_length tokens."""
    extra_width = 0

    def encode(self, path, lines, line_of, tokenizer, vocab, opts):
        records = json_records(path, lines, line_of, "'instruction', 'input', 'output' fields")
        prompts, outputs = [], []
        for line, r in records:
            fields = [text_field(path, line, r, key, key == "output").replace("\\n", "\n")
                      for key in ("instruction", "input", "output")]
            prompts.append(fields[0] + fields[1])
            outputs.append(fields[2])
        cls_id, sep_id = vocab.get(CLS_TOKEN), vocab.get(SEP_TOKEN)
        seqs, flags = [], []
        for (line, _), prompt, answer in zip(records, tokenizer.encode_batch(prompts), tokenizer.encode_batch(outputs)):
            ids = np.asarray([cls_id] + prompt + answer + [sep_id], dtype=np.int64)
            flag = np.zeros(len(ids), np.uint8)
            flag[0 if opts["train_on_prompt"] else len(prompt) + 1:] = TARGET_FLAG
            ids, flag = cut(path, line, ids, flag, self.width(opts["seq_length"]))
            seqs.append(ids)
            flags.append(flag)
        return seqs, flags


class ChatData(JsonlData):
    """{"messages": [...]} per line, rendered with the chat template; the assistant turns are predicted."""

    def encode(self, path, lines, line_of, tokenizer, vocab, opts):
        template = opts["template"]
        records = json_records(path, lines, line_of, "a 'messages' list (or 'conversations', or 'prompt' and "
                                                     "'completion')")
        texts, turns = [], []
        for line, r in records:
            try:
                text, spans_ = template.assistant_spans(*check_messages(path, line, r))
            except ValueError as e:
                fail_at(path, line, str(e))
            texts.append(text)
            turns.append(spans_)
        seqs, flags = [], []
        for (line, _), encoding, spans_ in zip(records, tokenizer.hf.encode_batch(texts, add_special_tokens=False),
                                               turns):
            ids = np.asarray(encoding.ids, dtype=np.int64)
            starts = np.asarray([a for a, _ in encoding.offsets], dtype=np.int64)
            flag = np.full(len(ids), TARGET_FLAG if opts["train_on_prompt"] else 0, np.uint8)
            for a, b in spans_:
                flag[(starts >= a) & (starts < b)] = TARGET_FLAG
            ids, flag = cut(path, line, ids, flag, self.width(opts["seq_length"]))
            seqs.append(ids)
            flags.append(flag)
        return seqs, flags


def pack(starts, lengths, width):
    """Consecutive pieces (start, length) into rows of at most `width` tokens, a row holding only pieces that
    follow each other in the store: (row starts, row lengths, pieces per row, piece lengths)."""
    rows, counts, pieces = [], [], []
    end = None
    for s, n in zip(starts.tolist(), lengths.tolist()):
        if rows and s == end and rows[-1][1] + n <= width:
            rows[-1][1] += n
            counts[-1] += 1
        else:
            rows.append([s, n])
            counts.append(1)
        pieces.append(n)
        end = s + n
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
    return rows[:, 0], rows[:, 1], np.asarray(counts, np.int32), np.asarray(pieces, np.int32)


def packed_build(data, block, opts):
    """--packing: the pieces the target would make on its own, packed into rows."""
    width = data.width(opts.seq_length)
    if isinstance(data, JsonlData):
        starts, lengths = block["doc_start"], block["doc_len"]
    else:
        starts, lengths = chunk_stream(block["doc_start"], block["doc_len"], width)
    row_start, row_len, counts, pieces = pack(np.asarray(starts), np.asarray(lengths), width)
    inst = spans(row_start, row_len)
    inst["piece_count"] = counts
    return inst, pieces


def documents_of(piece_counts, piece_lens, offsets, width):
    """[rows, width] document number of each position (1, 2, ... per row; 0 past the row's end)."""
    docs = np.zeros((len(piece_counts), width), dtype=np.int64)
    for row, (lo, n) in enumerate(zip(offsets.tolist(), piece_counts.tolist())):
        lens = np.asarray(piece_lens[lo:lo + n], np.int64)
        filled = np.repeat(np.arange(1, n + 1), lens)
        docs[row, :len(filled)] = filled
    return docs


def decoder_batch(ids, documents, flags, packed):
    """(src, tgt, seg) of decoder rows: the next token is predicted where it lies in the same document and, with
    flags, where it is flagged. Packed rows carry their documents (tgt["documents"]) for the model's mask and
    positions."""
    predicted = (documents > 0) if flags is None else flags
    src, following, docs = ids[:, :-1], ids[:, 1:], documents[:, :-1]
    keep = predicted[:, 1:] & (documents[:, 1:] == docs) & (docs > 0)
    tgt = {"lm": np.where(keep, following, PAD_ID), "lm_mask": keep.astype(np.int64)}
    if packed:
        tgt["documents"] = docs
    return src, tgt, (docs > 0).astype(np.int64)


def needs_decoder_batch(header):
    return bool(header.get("decoder_rows"))
