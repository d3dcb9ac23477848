"""Small synthetic fine-tuning sets whose answer is known, over characters of models/reviews_vocab.txt: a task script
that works learns them well above chance in a few epochs of a small model (tests/test_tasks.py,
benchmarks/task_demos.py); test and benchmark data, not part of the toolkit. Each function returns TSV rows (tuples
of strings) for its script's columns."""
import numpy as np

NEUTRAL, MARKERS = list("的了是我很看"), list("好坏书")
TOPICS = list("书电影音乐车茶画")


def scored(n, seed):
    """run_regression.py (label, text_a): the label is the share of 好 among the characters."""
    rng = np.random.default_rng(seed)
    texts = [rng.choice(NEUTRAL + MARKERS, size=int(rng.integers(4, 16))).tolist() for _ in range(n)]
    return [(f"{t.count('好') / len(t):.4f}", "".join(t)) for t in texts]


def multi_labelled(n, seed):
    """run_classifier_multi_label.py (label, text_a): label id k where MARKERS[k] appears (each with probability
    0.4, any number of them); always predicting every label scores micro-F1 about 0.57."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        text = rng.choice(NEUTRAL, size=int(rng.integers(4, 12))).tolist()
        held = [k for k in range(len(MARKERS)) if rng.random() < 0.4]
        for k in held:
            text.insert(int(rng.integers(0, len(text) + 1)), MARKERS[k])
        rows.append((",".join(map(str, held)), "".join(text)))
    return rows


def topical(rng, topic):
    """Neutral characters with the topic's character twice among them."""
    text = rng.choice(NEUTRAL, size=int(rng.integers(3, 10))).tolist()
    for _ in range(2):
        text.insert(int(rng.integers(0, len(text) + 1)), topic)
    return "".join(text)


def topic_pairs(n, seed, as_score=False):
    """run_classifier_siamese.py (label, text_a, text_b), or with as_score run_simcse.py's dev and test: label 1
    (score 1.0) when the two texts are about the same topic, half the pairs."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        a = rng.choice(TOPICS)
        same = rng.random() < 0.5
        b = a if same else rng.choice([t for t in TOPICS if t != a])
        rows.append((f"{float(same):.1f}" if as_score else str(int(same)), topical(rng, a), topical(rng, b)))
    return rows


def topic_positives(n, seed):
    """run_simcse.py's supervised training pairs (text_a, text_b): two texts about one topic."""
    rng = np.random.default_rng(seed)
    return [(topical(rng, t), topical(rng, t)) for t in rng.choice(TOPICS, size=n)]


def marked(n, seed):
    """Classification (label, text_a): label 1 when the text holds 好, 0 when it holds 坏."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        text = rng.choice(NEUTRAL, size=int(rng.integers(3, 9))).tolist()
        text.insert(int(rng.integers(0, len(text) + 1)), "好" if label else "坏")
        rows.append((str(label), "".join(text)))
    return rows


def write_tsv(path, header, rows):
    """header: the column names, tab-separated."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(header + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    return str(path)


IDIOM_CHARS = list("书电影音乐车茶画好坏的了是我很看")


def idiom_cloze(n, seed, candidates=10):
    """run_chid.py (JSON lines, answers): passages whose blank is followed by the first character of its idiom,
    among `candidates` four-character idioms that all start differently; chance is 1 / candidates."""
    rng = np.random.default_rng(seed)
    lines, answers, blank = [], {}, 0
    for _ in range(n):
        firsts = rng.permutation(IDIOM_CHARS)[:candidates]
        idioms = ["".join([f] + rng.choice(IDIOM_CHARS, size=3).tolist()) for f in firsts]
        content = []
        for _ in range(int(rng.integers(1, 3))):
            text = "".join(rng.choice(NEUTRAL, size=int(rng.integers(3, 8))).tolist())
            answer = int(rng.integers(0, candidates))
            tag = f"#idiom{blank:06d}#"
            blank += 1
            answers[tag] = answer
            content.append(text + tag + idioms[answer][0] + "".join(rng.choice(NEUTRAL, size=3).tolist()))
        lines.append({"candidates": idioms, "content": content})
    return lines, answers
