"""Multiple-choice evaluation by log-likelihood, as lm-evaluation-harness scores such tasks: each choice is a
continuation of the prompt; `acc` counts the questions whose answer has the largest summed log-probability,
`acc_norm` those whose answer has the largest summed log-probability divided by the continuation's length in
characters. Questions as C-Eval and CMMLU ship them (CSV: question, A, B, C, D, answer), the prompt as the
harness's ceval task writes it: the question, the lettered choices, "答案：", the continuation " A" .. " D";
--choices_as texts makes the choice texts the continuations. Few-shot: the first k dev questions with their
answers before the prompt, each followed by a blank line."""
import csv

import numpy as np
import torch

from uer.core.errors import UserInputError, fail_at
from uer.evaluation.likelihood import continuation_log_probs

LETTERS = ("A", "B", "C", "D")


def read_questions(path):
    """[(question, [4 choice texts], answer index)] of a C-Eval / CMMLU CSV (header names any case)."""
    try:
        f = open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise UserInputError(f"{path}: question file not found") from None
    with f:
        rows = list(csv.reader(f))
    if not rows:
        raise UserInputError(f"{path}: empty; expected a header with question, A, B, C, D, answer")
    header = [h.strip().lower() for h in rows[0]]
    needed = ["question", "a", "b", "c", "d", "answer"]
    missing = [n for n in needed if n not in header]
    if missing:
        raise UserInputError(f"{path}:1: header lacks {', '.join(missing)}; expected question, A, B, C, D, answer")
    at = {n: header.index(n) for n in needed}
    out = []
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            fail_at(path, number, f"{len(row)} columns, the header has {len(header)}")
        answer = row[at["answer"]].strip().upper()
        if answer not in LETTERS:
            fail_at(path, number, f"answer {answer!r} is not one of A, B, C, D")
        out.append((row[at["question"]], [row[at[n]] for n in "abcd"], LETTERS.index(answer)))
    return out


def prompt_of(question, choices):
    return question.strip() + "".join(f"\n{letter}. {text}" for letter, text in zip(LETTERS, choices)) + "\n答案："


def continuations(choices, choices_as):
    return [" " + (letter if choices_as == "letters" else text) for letter, text in zip(LETTERS, choices)]


def few_shot_context(shots, choices_as):
    """The demonstrations: each prompt with its answer's continuation, then a blank line."""
    return "".join(prompt_of(q, c) + continuations(c, choices_as)[a] + "\n\n" for q, c, a in shots)


def encode_pair(encode, context, continuation):
    """(context ids, continuation ids) as the harness splits them: the whole text tokenized once and the
    context's tokens taken off (spaces ending the context move to the continuation)."""
    spaces = len(context) - len(context.rstrip(" "))
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole, head = encode(context + continuation), encode(context)
    return head, whole[len(head):]


def pick(logps, lengths):
    """(choice of acc, choice of acc_norm) from [choices] summed log-probabilities and character lengths."""
    return int(np.argmax(logps)), int(np.argmax(np.asarray(logps) / np.asarray(lengths, dtype=np.float64)))


def evaluate(model, device, encode, questions, shots=(), choices_as="letters", seq_length=None):
    """{"acc", "acc_norm", "questions"} over the questions."""
    context_prefix = few_shot_context(shots, choices_as)
    right, right_norm = 0, 0
    with torch.no_grad():
        for question, choices, answer in questions:
            context = context_prefix + prompt_of(question, choices)
            texts = continuations(choices, choices_as)
            rows = [encode_pair(encode, context, t) for t in texts]
            logps = score_rows(model, device, rows, seq_length)
            acc, acc_norm = pick(logps, [len(t) for t in texts])
            right += acc == answer
            right_norm += acc_norm == answer
    n = len(questions)
    return {"acc": right / n, "acc_norm": right_norm / n, "questions": n}


def score_rows(model, device, rows, seq_length=None):
    """Summed log-probabilities of each (context, continuation), together in one right-padded batch; a row
    longer than seq_length keeps its end."""
    seqs, a_lens = [], []
    for head, tail in rows:
        row = head + tail
        if seq_length and len(row) > seq_length:
            cut = len(row) - seq_length
            head, row = head[cut:], row[cut:]
        seqs.append(row)
        a_lens.append(len(head))
    width = max(len(s) for s in seqs)
    src = torch.zeros(len(seqs), width, dtype=torch.long)
    seg = torch.zeros(len(seqs), width, dtype=torch.long)
    for i, (row, a) in enumerate(zip(seqs, a_lens)):
        src[i, :len(row)] = torch.tensor(row)
        seg[i, :a], seg[i, a:len(row)] = 1, 2
    logps, _ = continuation_log_probs(model, src.to(device), seg.to(device))
    return logps.double().cpu().numpy()
