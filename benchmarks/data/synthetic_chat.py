"""Synthetic decoder data whose answers are known (tests, benchmarks/decoder_proof.py, quickstart): short digit
strings to reverse or sort, one-digit sums, as a pre-training text corpus, multi-turn chat conversations, TencentPretrain's
instruction format and preference pairs. Test and benchmark data, not part of the toolkit."""
import json

import numpy as np

TASKS = ("reverse", "sort", "add")


def digits(rng, low=2, high=5):
    return "".join(str(d) for d in rng.integers(0, 10, size=int(rng.integers(low, high + 1))))


def answer(task, text):
    if task == "reverse":
        return text[::-1]
    if task == "sort":
        return "".join(sorted(text))
    a, b = text.split("+")
    return str(int(a) + int(b))


def question(rng, task):
    if task == "add":
        return f"{int(rng.integers(0, 10))}+{int(rng.integers(0, 10))}"
    return digits(rng)


def exchange(rng):
    task = TASKS[int(rng.integers(0, len(TASKS)))]
    text = question(rng, task)
    return f"{task} {text}", answer(task, text)


def conversations(n, seed, turns=(1, 3), system_share=0.3):
    """{"messages": [...]} with 1-3 user/assistant exchanges, sometimes after a system message."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        messages = [{"role": "system", "content": "answer with digits only"}] if rng.random() < system_share else []
        for _ in range(int(rng.integers(turns[0], turns[1] + 1))):
            q, a = exchange(rng)
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        out.append({"messages": messages})
    return out


def pretraining_texts(n, seed):
    """{"text"}: worked examples in running text ("reverse 123 gives 321. sort 31 gives 13.")."""
    rng = np.random.default_rng(seed)
    return [{"text": " ".join(f"{q} gives {a}." for q, a in (exchange(rng) for _ in range(int(rng.integers(1, 5)))))}
            for _ in range(n)]


def instructions(n, seed):
    """TencentPretrain's llm_sft format."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        q, a = exchange(rng)
        task, text = q.split(" ")
        rows.append({"instruction": f"{task} ", "input": text, "output": a})
    return rows


def preferences(n, seed, style=True):
    """{"messages", "chosen", "rejected"}. style: the answer ending with a full stop, "X.", preferred to the bare
    "X" a chat-tuned model gives (a preference it does not have yet); otherwise the right answer against a near
    miss (one digit changed)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        q, a = exchange(rng)
        if style:
            chosen, rejected = f"{a}.", a
        else:
            k = int(rng.integers(0, len(a)))
            chosen, rejected = a, a[:k] + str((int(a[k]) + int(rng.integers(1, 10))) % 10) + a[k + 1:]
        rows.append({"messages": [{"role": "user", "content": q}], "chosen": chosen, "rejected": rejected})
    return rows


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def write_samples(folder):
    """The decoder samples the repository ships (corpora/llm_pretrain_sample.jsonl, datasets/chat_sample/)."""
    import os
    root = os.path.abspath(folder)
    os.makedirs(os.path.join(root, "datasets", "chat_sample"), exist_ok=True)
    write_jsonl(os.path.join(root, "corpora", "llm_pretrain_sample.jsonl"), pretraining_texts(1000, 11))
    for name, rows in (("train.jsonl", conversations(1500, 12)), ("test.jsonl", conversations(60, 13)),
                       ("instructions.jsonl", instructions(300, 14)),
                       ("preferences_train.jsonl", preferences(400, 15)),
                       ("preferences_dev.jsonl", preferences(80, 16))):
        write_jsonl(os.path.join(root, "datasets", "chat_sample", name), rows)


if __name__ == "__main__":
    import sys
    write_samples(sys.argv[1] if len(sys.argv) > 1 else ".")
