"""Task metrics, computed from predictions and gold labels."""
import numpy as np


def classification_report(pred, gold, labels_num):
    """(accuracy, text): accuracy, per-label precision/recall/F1 and the confusion matrix (rows: prediction,
    columns: gold label)."""
    pred, gold = np.asarray(pred), np.asarray(gold)
    confusion = np.zeros((labels_num, labels_num), dtype=np.int64)
    np.add.at(confusion, (pred, gold), 1)
    lines = ["confusion matrix (rows: predicted, columns: gold):"]
    lines += ["  " + " ".join(f"{v:6d}" for v in row) for row in confusion]
    lines.append("label  precision  recall  f1")
    for k in range(labels_num):
        tp = confusion[k, k]
        p = tp / max(confusion[k].sum(), 1)
        r = tp / max(confusion[:, k].sum(), 1)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        lines.append(f"{k:5d}  {p:9.4f}  {r:6.4f}  {f1:.4f}")
    accuracy = float((pred == gold).mean()) if len(gold) else 0.0
    lines.append(f"accuracy {accuracy:.4f} ({int((pred == gold).sum())}/{len(gold)})")
    return accuracy, "\n".join(lines)


def macro_f1(pred, gold, labels_num):
    """The mean over labels of each label's F1 (a label never predicted nor gold counts 0)."""
    pred, gold = np.asarray(pred), np.asarray(gold)
    scores = []
    for k in range(labels_num):
        tp = int(((pred == k) & (gold == k)).sum())
        p, r = tp / max(int((pred == k).sum()), 1), tp / max(int((gold == k).sum()), 1)
        scores.append(2 * p * r / (p + r) if p + r else 0.0)
    return float(np.mean(scores))


def ranking_scores(groups, scores, relevant):
    """(MRR, MAP) of candidates ranked by descending score within each group (ties keep input order).

    Groups without a relevant candidate have no rank to score and are left out of both means (as the
    NLPCC-DBQA evaluation); returns the number of groups used as well."""
    scores, relevant = np.asarray(scores, dtype=np.float64), np.asarray(relevant).astype(bool)
    _, group_of = np.unique(np.asarray(groups), return_inverse=True)
    # One sort for all groups: by group, then by descending score, ties in input order.
    order = np.lexsort((np.arange(len(scores)), -scores, group_of))
    bounds = np.flatnonzero(np.diff(group_of[order])) + 1
    reciprocal, average_precision = [], []
    for members in np.split(order, bounds) if len(order) else []:
        ranked = relevant[members]
        if not ranked.any():
            continue
        hits = np.flatnonzero(ranked) + 1
        reciprocal.append(1.0 / hits[0])
        average_precision.append(float(np.mean(np.arange(1, len(hits) + 1) / hits)))
    if not reciprocal:
        return 0.0, 0.0, 0
    return float(np.mean(reciprocal)), float(np.mean(average_precision)), len(reciprocal)


def bleu(hypotheses, references):
    """Corpus BLEU (sacrebleu, 0-100) of token lists against one reference token list each; the tokens are the
    model's own, so no further tokenization is applied."""
    try:
        import sacrebleu
    except ImportError:
        from uer.core.errors import UserInputError
        raise UserInputError("--metric bleu needs sacrebleu: pip install sacrebleu") from None
    return float(sacrebleu.corpus_bleu([" ".join(h) for h in hypotheses], [[" ".join(r) for r in references]],
                                       tokenize="none").score)


def lcs_length(a, b):
    """Length of the longest common subsequence of two sequences (dynamic programming, one row at a time)."""
    if not a or not b:
        return 0
    b = np.asarray(b)
    row = np.zeros(len(b) + 1, dtype=np.int64)
    for x in a:
        # new[j] = max(row[j], new[j-1], row[j-1] + (x == b[j-1])): the last term, then a running maximum
        candidate = row.copy()
        candidate[1:] = np.maximum(row[1:], row[:-1] + (b == x))
        row = np.maximum.accumulate(candidate)
    return int(row[-1])


def rouge_l(hypotheses, references):
    """Mean ROUGE-L F1 (0-1) of hypotheses against one reference each (sequences of tokens or ids)."""
    figures = []
    for h, r in zip(hypotheses, references):
        common = lcs_length(list(h), list(r))
        if not common:
            figures.append(0.0)
            continue
        p, q = common / len(h), common / len(r)
        figures.append(2 * p * q / (p + q))
    return float(np.mean(figures)) if figures else 0.0


def ranks(values):
    """Ranks 1..n with ties given their mean rank (as Spearman's coefficient needs)."""
    order = np.argsort(values, kind="stable")
    ranked = np.empty(len(values), dtype=np.float64)
    ranked[order] = np.arange(1, len(values) + 1)
    unique, inverse = np.unique(values, return_inverse=True)
    sums = np.bincount(inverse, weights=ranked)
    return (sums / np.bincount(inverse))[inverse]


def pearson(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a, b = a - a.mean(), b - b.mean()
    scale = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / scale) if scale else 0.0


def multi_label_f1(predicted, gold):
    """(micro-F1, macro-F1) of 0/1 matrices [examples, labels]."""
    tp, pred, true = (predicted * gold).sum(0), predicted.sum(0), gold.sum(0)
    micro = 2 * tp.sum() / max(pred.sum() + true.sum(), 1)
    per_label = np.where(pred + true > 0, 2 * tp / np.maximum(pred + true, 1), 0.0)
    return float(micro), float(per_label.mean())
