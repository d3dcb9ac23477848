#!/usr/bin/env python3
"""Draw the curves of one or more runs from their metrics files (OUTPUT_MODEL_PATH.metrics.jsonl, written by
pretrain.py and every run_*.py): one panel per figure (total loss, then loss and accuracy of each target part,
then the dev/test metrics of fine-tuning), per step, runs overlaid with their file names as legend."""
import argparse
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.core.cli import run_main  # noqa: E402

PANEL_INCHES = (4.8, 3.2)
TRAIN_FIGURE = re.compile(r"^(loss|acc)(_.+)?$")
PLOTTED_SPLITS = ("train", "dev", "test")


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--input", "--input_path", dest="inputs", nargs="+", required=True,
                        help="Metrics files (JSON lines), one per run.")
    parser.add_argument("--output", "--output_path", dest="output", required=True, help="Picture (.png, .svg, .pdf).")
    parser.add_argument("--dpi", type=int, default=100, help="Pixels per inch; a panel is 4.8 x 3.2 inches.")
    return parser


def series(records):
    """{(split, figure): ([steps], [values])} of the records' numbers worth a curve."""
    out = {}
    for r in records:
        split = r.get("split", "train")
        if split not in PLOTTED_SPLITS or "step" not in r:
            continue
        for key, value in r.items():
            if not isinstance(value, (int, float)) or key in ("step", "epoch", "time"):
                continue
            if split == "train" and not TRAIN_FIGURE.match(key):
                continue
            steps, values = out.setdefault((split, key), ([], []))
            steps.append(r["step"])
            values.append(value)
    return out


def panel_order(keys):
    """Train loss first, then each part's loss and accuracy side by side, then dev/test figures."""
    def rank(key):
        split, name = key
        part = name.split("_", 1)[1] if "_" in name else ""
        return (PLOTTED_SPLITS.index(split), part != "" if split == "train" else 0, part,
                not name.startswith("loss"), name)
    return sorted(keys, key=rank)


def legend_names(paths):
    """File names, or the paths as given where two runs share a file name."""
    names = [os.path.basename(p) for p in paths]
    return names if len(set(names)) == len(names) else list(paths)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from uer.core.errors import UserInputError
    from uer.monitor.metrics import read_metrics
    try:
        import matplotlib
    except ImportError:
        raise UserInputError("plot_curves.py needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    runs = [(name, series(read_metrics(p))) for name, p in zip(legend_names(args.inputs), args.inputs)]
    keys = {k for _, s in runs for k in s}
    if len({name for split, name in keys if split == "train" and name.startswith("loss_")}) == 1:
        keys.discard(("train", "loss"))  # one target part: the total is that part's loss
    keys = panel_order(keys)
    if not keys:
        raise UserInputError(f"{', '.join(args.inputs)}: no step with a loss or metric to draw")
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(PANEL_INCHES[0] * cols, PANEL_INCHES[1] * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for name, s in runs:
            if key in s:
                ax.plot(*s[key], label=name, marker="o" if len(s[key][0]) < 3 else None)
        ax.set_title(f"{key[0]} {key[1]}")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(args.output, dpi=args.dpi)
    print(f"wrote {args.output}: {len(keys)} panels, {len(runs)} runs")


if __name__ == "__main__":
    run_main(main)
