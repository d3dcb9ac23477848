"""Machine reading comprehension (CMRC2018, SQuAD-style JSON): question + context windows with a stride, span
labels, best-span decoding and the CMRC2018 EM/F1.

Contexts are read one character per token (whitespace dropped), as Chinese BERT sees Chinese text; this keeps
an exact map from tokens back to characters, so predicted answers are substrings of the context.
"""
import re

import numpy as np
import torch
import torch.nn.functional as F

from uer.finetune.data import Examples
from uer.finetune.prediction import predict
from uer.core.constants import CLS_TOKEN, SEP_TOKEN, UNK_TOKEN
from uer.core.errors import UserInputError
from uer.core.readers import read_json_object


def read_squad(path, with_answers=True):
    """[{id, question, context, answers: [texts], answer_start: first answer's character offset or None}]."""
    data = read_json_object(path, "SQuAD-style data").get("data")
    if not isinstance(data, list):
        raise UserInputError(f"{path}: expected {{\"data\": [{{\"paragraphs\": [...]}}, ...]}} (SQuAD format)")
    questions = []
    for article in data:
        for paragraph in article.get("paragraphs", []):
            context = paragraph.get("context")
            for qa in paragraph.get("qas", []):
                if not isinstance(context, str) or "id" not in qa or "question" not in qa:
                    raise UserInputError(f"{path}: each paragraph needs a context and each question an id and "
                                         f"a question (at question {qa.get('id', '?')})")
                answers = qa.get("answers") or []
                if with_answers and not answers:
                    raise UserInputError(f"{path}: question {qa['id']} has no answers")
                first = answers[0] if answers else {}
                questions.append({"id": qa["id"], "question": qa["question"], "context": context,
                                  "answers": [a["text"] for a in answers],
                                  "answer_start": first.get("answer_start")})
    if not questions:
        raise UserInputError(f"{path}: no questions found")
    return questions


def char_tokens(text, vocab, lower):
    """(ids, character offsets) of the non-space characters of `text`."""
    unk = vocab.get(UNK_TOKEN)
    ids, offsets = [], []
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        ids.append(vocab.w2i.get(ch.lower() if lower else ch, unk))
        offsets.append(i)
    return ids, np.asarray(offsets, dtype=np.int64)


def answer_tokens(offsets, start_char, text):
    """(first, last) token of an answer given its character span, or None if it has no tokens."""
    end_char = start_char + len(text) - 1
    first, last = np.searchsorted(offsets, start_char), np.searchsorted(offsets, end_char, side="right") - 1
    return (int(first), int(last)) if first <= last else None


def build_windows(questions, vocab, seq_length, doc_stride, with_answers=True):
    """Examples of [CLS] question [SEP] context-window [SEP]; fields: question (owner index), window (token
    index of the window's first context token), start/end (label positions; 0 = [CLS] when the answer is not
    in the window). Also returns each question's character offsets for decoding."""
    lower = not vocab.is_cased
    cls, sep = vocab.get(CLS_TOKEN), vocab.get(SEP_TOKEN)
    sequences, a_lens, owner, window_start, starts, ends, all_offsets = [], [], [], [], [], [], []
    for q, item in enumerate(questions):
        q_ids = char_tokens(item["question"], vocab, lower)[0][:seq_length // 2]
        c_ids, offsets = char_tokens(item["context"], vocab, lower)
        all_offsets.append(offsets)
        span = None
        if with_answers and item["answer_start"] is not None:
            span = answer_tokens(offsets, int(item["answer_start"]), item["answers"][0])
        room = seq_length - len(q_ids) - 3
        lo = 0
        while True:
            window = c_ids[lo:lo + room]
            head = [cls] + q_ids + [sep]
            sequences.append(head + window + [sep])
            a_lens.append(len(head))
            owner.append(q)
            window_start.append(lo)
            inside = span is not None and lo <= span[0] and span[1] < lo + len(window)
            starts.append(span[0] - lo + len(head) if inside else 0)
            ends.append(span[1] - lo + len(head) if inside else 0)
            if lo + room >= len(c_ids):
                break
            lo += min(doc_stride, room)  # as UER-py: no context is skipped when windows are short
    fields = {"question": np.asarray(owner), "window": np.asarray(window_start), "start": np.asarray(starts),
              "end": np.asarray(ends)}
    return Examples(sequences, a_lens, fields), all_offsets


class ReadingSet:
    """Questions, their windows (an Examples, which this object stands in for when training) and the
    character offsets of their context tokens."""

    def __init__(self, questions, vocab, seq_length, doc_stride, with_answers=True):
        self.questions = questions
        self.examples, self.offsets = build_windows(questions, vocab, seq_length, doc_stride, with_answers)

    def __getattr__(self, name):
        return getattr(self.__dict__["examples"], name)

    def __len__(self):
        return len(self.examples)

    def describe(self, split):
        return (f"{len(self.questions)} {split} questions ({len(self)} windows: contexts cut by --seq_length and "
                "--doc_stride)")


def span_loss(model, examples, indices, src, seg):
    logits = model(src, seg).float()
    logits = logits.masked_fill((seg == 0)[..., None], -10000.0)
    start, end = (examples.field(k, indices, src.device) for k in ("start", "end"))
    return (F.cross_entropy(logits[..., 0], start) + F.cross_entropy(logits[..., 1], end)) / 2


def best_spans(model, examples, batch_size, runtime, max_answer_length):
    """Per window: (score, first context token, last context token) of its best span within the context."""
    def rows(model, examples, indices, src, seg):
        logits = model(src, seg).float()
        in_context = seg == 2
        in_context &= torch.arange(seg.size(1), device=seg.device)[None, :] < \
            torch.as_tensor(examples.length[indices] - 1, device=seg.device)[:, None]  # not the final [SEP]
        start = logits[..., 0].masked_fill(~in_context, -1e9)
        end = logits[..., 1].masked_fill(~in_context, -1e9)
        n = seg.size(1)
        j = torch.arange(n, device=seg.device)
        allowed = (j[None, :] >= j[:, None]) & (j[None, :] - j[:, None] < max_answer_length)
        scores = (start[:, :, None] + end[:, None, :]).masked_fill(~allowed, -1e18)
        best = scores.view(len(indices), -1).argmax(-1)
        out = []
        for r, i in enumerate(indices):
            s, e = divmod(int(best[r]), n)
            out.append((float(scores[r, s, e]), s - int(examples.a_len[i]), e - int(examples.a_len[i])))
        return out
    return predict(model, examples, batch_size, runtime, rows)


def decode_answers(questions, examples, offsets, spans):
    """The best-scoring span over each question's windows, as a substring of its context."""
    best = {}
    for w, (score, s, e) in enumerate(spans):
        q = int(examples.fields["question"][w])
        if q not in best or score > best[q][0]:
            lo = int(examples.fields["window"][w])
            best[q] = (score, lo + s, lo + e)
    answers = []
    for q, item in enumerate(questions):
        _, s, e = best[q]
        answers.append(item["context"][offsets[q][s]:offsets[q][e] + 1])
    return answers


# -- CMRC2018's official metric (character-level for Chinese, punctuation ignored)

PUNCTUATION = set("-:_*^/\\~`+=，。：？！“”；’《》……·、「」（）－～『』")


def segments(text, drop_punctuation=True):
    """CMRC2018's mixed segmentation: each Chinese character and punctuation mark alone, other runs split into
    words (the official script uses nltk.word_tokenize there; a word/punctuation regex stands in for it)."""
    out, run = [], ""
    for ch in text.lower().strip():
        if drop_punctuation and ch in PUNCTUATION:
            continue
        if "\u4e00" <= ch <= "\u9fa5" or ch in PUNCTUATION:
            out += re.findall(r"\w+|[^\w\s]", run)
            run = ""
            out.append(ch)
        else:
            run += ch
    return out + re.findall(r"\w+|[^\w\s]", run)


def longest_common_substring(a, b):
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                current[j + 1] = previous[j] + 1
                best = max(best, current[j + 1])
        previous = current
    return best


def f1_score(answers, prediction):
    scores = []
    pred = segments(prediction)
    for answer in answers:
        gold = segments(answer)
        common = longest_common_substring(gold, pred)
        if common == 0:
            scores.append(0.0)
            continue
        precision, recall = common / len(pred), common / len(gold)
        scores.append(2 * precision * recall / (precision + recall))
    return max(scores) if scores else 0.0


def exact_match(answers, prediction):
    def strip(text):
        return "".join(ch for ch in text.lower().strip() if ch not in PUNCTUATION)
    return float(any(strip(a) == strip(prediction) for a in answers))


def cmrc_scores(questions, predictions):
    """(EM, F1) in percent, averaged over questions, as the CMRC2018 evaluation script reports them."""
    em = [exact_match(q["answers"], p) for q, p in zip(questions, predictions)]
    f1 = [f1_score(q["answers"], p) for q, p in zip(questions, predictions)]
    return 100 * sum(em) / len(em), 100 * sum(f1) / len(f1)


def predicted_answers(model, data, batch_size, runtime, max_answer_length):
    spans = best_spans(model, data.examples, batch_size, runtime, max_answer_length)
    return decode_answers(data.questions, data.examples, data.offsets, spans)


def reading_evaluator(batch_size, runtime, max_answer_length):
    """evaluate(model, ReadingSet, name) -> {"score": (EM + F1) / 2, "em", "f1"}."""
    def evaluate(model, data, name):
        questions = data.questions
        em, f1 = cmrc_scores(questions, predicted_answers(model, data, batch_size, runtime, max_answer_length))
        print(f"{name}: EM {em:.2f} F1 {f1:.2f} ({len(questions)} questions)", flush=True)
        return {"score": (em + f1) / 2, "em": em, "f1": f1}
    return evaluate
