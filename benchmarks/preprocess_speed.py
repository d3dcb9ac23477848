#!/usr/bin/env python3
"""preprocess.py speed and memory on real corpora.

    python3 benchmarks/preprocess_speed.py --data_dir ../shared/data [--vocab_path VOCAB] [--processes_num 2]
                                           [--scale] [--segmenters_only]

Rows: book_review_bert.txt (--target bert), and a 20 MB corpus made by concatenating
CLUECorpusSmall_bert_sampled.txt ten times, once with the default --docs_buffer_size, once with a small one and
once with --whole_word_masking (jieba words; its time is also given as a ratio to the plain row).
Columns: wall time, dataset bytes, peak RSS summed over the preprocess process and its workers.

A second table compares the segmenters on the 20 MB corpus, one process each: Python jieba (the reference for
word boundaries) and rjieba (jieba-rs: the same dictionary and algorithm in Rust, which --segmenter jieba uses):
MB/s, and the share of jieba's word boundaries and of lines that rjieba reproduces exactly. --segmenters_only
prints that table alone. --scale prints a third table alone: the corpus x10 (20 MB) and x100 (200 MB), at the
default --docs_buffer_size and at 20,000, and the ratios of their wall times and peak RSS.
"""
import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tree_rss_kb(pid):
    """Resident memory of a process and all its descendants (Linux /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run(corpus, vocab, out, processes, extra=()):
    cmd = [sys.executable, os.path.join(ROOT, "preprocess.py"), "--corpus_path", corpus, "--vocab_path", vocab,
           "--dataset_path", out, "--processes_num", str(processes), "--target", "bert", *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stderr.read())
    return wall, os.path.getsize(out), peak / 1024


def segmenter_table(corpus):
    try:
        import jieba
        import rjieba
    except ImportError:
        print("\nsegmenters: pip install jieba rjieba to compare them")
        return
    import logging
    jieba.setLogLevel(logging.WARNING)
    with open(corpus, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()]
    megabytes = os.path.getsize(corpus) / 1e6
    fast = rjieba.Jieba()
    cuts = {}
    print(f"\n| segmenter ({megabytes:.1f} MB, {len(lines)} lines, 1 process) | s | MB/s | jieba's boundaries kept | "
          "lines identical to jieba |")
    print("|---|---|---|---|---|")
    for name, cut in (("jieba 0.42 (Python)", lambda t: list(jieba.cut(t))), ("rjieba (Rust)", fast.cut)):
        jieba.initialize()
        start = time.perf_counter()
        cuts[name] = [cut(t) for t in lines]
        seconds = time.perf_counter() - start
        reference = cuts["jieba 0.42 (Python)"]
        same_lines = sum(a == b for a, b in zip(reference, cuts[name]))
        kept = total = 0
        for a, b in zip(reference, cuts[name]):
            ends_a, ends_b = set(itertools.accumulate(map(len, a))), set(itertools.accumulate(map(len, b)))
            kept += len(ends_a & ends_b)
            total += len(ends_a)
        print(f"| {name} | {seconds:.1f} | {megabytes / seconds:.2f} | {kept / total:.5%} | "
              f"{same_lines / len(lines):.4%} |", flush=True)


def clue_x10(corpora, folder, times=10):
    big = os.path.join(folder, f"clue_x{times}.txt")
    with open(os.path.join(corpora, "CLUECorpusSmall_bert_sampled.txt"), "rb") as f:
        text = f.read()
    if not text.endswith(b"\n\n"):
        text = text.rstrip(b"\n") + b"\n\n"
    with open(big, "wb") as f:
        for _ in range(times):
            f.write(text)
    return big


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True, help="Folder with corpora/ and models/ (e.g. ../shared/data).")
    parser.add_argument("--vocab_path", default=None, help="Default: DATA_DIR/models/google_zh_vocab.txt.")
    parser.add_argument("--processes_num", type=int, default=2)
    parser.add_argument("--segmenters_only", action="store_true", help="Only the segmenter table.")
    parser.add_argument("--scale", action="store_true", help="Only the 20 MB against 200 MB table.")
    parser.add_argument("--smoke", action="store_true", help="The corpora once instead of x10 and x100: checks that "
                        "the script runs (the test suite runs it).")
    args = parser.parse_args()
    vocab = args.vocab_path or os.path.join(args.data_dir, "models", "google_zh_vocab.txt")
    corpora = os.path.join(args.data_dir, "corpora")
    with tempfile.TemporaryDirectory() as tmp:
        big = clue_x10(corpora, tmp, 1 if args.smoke else 10)
        if args.scale:
            return scale_table(args, vocab, big, clue_x10(corpora, tmp, 2 if args.smoke else 100), tmp)
        if not args.segmenters_only:
            preprocess_table(args, vocab, corpora, big, tmp)
        segmenter_table(big)


def preprocess_table(args, vocab, corpora, big, tmp):
    rows = [("book_review_bert.txt", os.path.join(corpora, "book_review_bert.txt"), ()),
            ("CLUECorpusSmall_bert x10", big, ()),
            ("CLUECorpusSmall_bert x10, --docs_buffer_size 2000", big, ("--docs_buffer_size", "2000")),
            ("CLUECorpusSmall_bert x1, --docs_buffer_size 2000",
             os.path.join(corpora, "CLUECorpusSmall_bert_sampled.txt"),
             ("--docs_buffer_size", "2000")),
            ("CLUECorpusSmall_bert x10, --whole_word_masking", big, ("--whole_word_masking",))]
    print(f"| corpus (--target bert, --processes_num {args.processes_num}) | corpus MB | wall s | dataset MB | "
          "peak RSS MB |")
    print("|---|---|---|---|---|")
    walls = {}
    for name, path, extra in rows:
        wall, size, rss = run(path, vocab, os.path.join(tmp, "dataset.pt"), args.processes_num, extra)
        walls[name] = wall
        print(f"| {name} | {os.path.getsize(path) / 1e6:.1f} | {wall:.1f} | {size / 1e6:.1f} | {rss:.0f} |",
              flush=True)
    wwm, plain = walls[rows[-1][0]], walls[rows[1][0]]
    print(f"\n--whole_word_masking takes {wwm / plain:.2f}x the time of the same preprocess without it")


def scale_table(args, vocab, x10, x100, tmp):
    """Both corpora at the default --docs_buffer_size (100,000 documents: the x10 corpus, 25,000 documents, is
    one block, the x100 one is blocks of 100,000) and at 20,000 (both corpora span several blocks)."""
    print(f"| corpus (--target bert, --processes_num {args.processes_num}) | --docs_buffer_size | corpus MB | "
          "wall s | dataset MB | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    figures = {}
    for buffer in (100000, 20000):
        for name, path in (("CLUECorpusSmall_bert x10", x10), ("CLUECorpusSmall_bert x100", x100)):
            wall, size, rss = run(path, vocab, os.path.join(tmp, "dataset.pt"), args.processes_num,
                                  ("--docs_buffer_size", str(buffer)))
            figures[buffer, name[-4:].strip()] = (wall, rss)
            print(f"| {name} | {buffer} | {os.path.getsize(path) / 1e6:.1f} | {wall:.1f} | {size / 1e6:.1f} | "
                  f"{rss:.0f} |", flush=True)
    print()
    for buffer in (100000, 20000):
        (w10, r10), (w100, r100) = figures[buffer, "x10"], figures[buffer, "x100"]
        print(f"--docs_buffer_size {buffer}: x100 / x10 wall time {w100 / w10:.2f}x (goal at most 11x), peak RSS "
              f"{r100 / r10:.2f}x (goal at most 1.2x)")


if __name__ == "__main__":
    main()
