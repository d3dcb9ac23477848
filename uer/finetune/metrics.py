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
