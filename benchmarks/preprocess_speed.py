#!/usr/bin/env python3
"""preprocess.py speed and memory on real corpora.

    python3 benchmarks/preprocess_speed.py --data_dir ../shared/data [--vocab_path VOCAB] [--processes_num 2]

Rows: book_review_bert.txt (--target bert), and a 20 MB corpus made by concatenating
CLUECorpusSmall_bert_sampled.txt ten times, once with the default --docs_buffer_size and once with a small one.
Columns: wall time, dataset bytes, peak RSS summed over the preprocess process and its workers.
"""
import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True, help="Folder with corpora/ and models/ (e.g. ../shared/data).")
    parser.add_argument("--vocab_path", default=None, help="Default: DATA_DIR/models/google_zh_vocab.txt.")
    parser.add_argument("--processes_num", type=int, default=2)
    args = parser.parse_args()
    vocab = args.vocab_path or os.path.join(args.data_dir, "models", "google_zh_vocab.txt")
    corpora = os.path.join(args.data_dir, "corpora")
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "clue_x10.txt")
        with open(os.path.join(corpora, "CLUECorpusSmall_bert_sampled.txt"), "rb") as f:
            text = f.read()
        if not text.endswith(b"\n\n"):
            text = text.rstrip(b"\n") + b"\n\n"
        with open(big, "wb") as f:
            f.write(text * 10)
        rows = [("book_review_bert.txt", os.path.join(corpora, "book_review_bert.txt"), ()),
                ("CLUECorpusSmall_bert x10", big, ()),
                ("CLUECorpusSmall_bert x10, --docs_buffer_size 2000", big, ("--docs_buffer_size", "2000")),
                ("CLUECorpusSmall_bert x1, --docs_buffer_size 2000",
                 os.path.join(corpora, "CLUECorpusSmall_bert_sampled.txt"),
                 ("--docs_buffer_size", "2000"))]
        print(f"| corpus (--target bert, --processes_num {args.processes_num}) | corpus MB | wall s | dataset MB | "
              "peak RSS MB |")
        print("|---|---|---|---|---|")
        for name, path, extra in rows:
            wall, size, rss = run(path, vocab, os.path.join(tmp, "dataset.pt"), args.processes_num, extra)
            print(f"| {name} | {os.path.getsize(path) / 1e6:.1f} | {wall:.1f} | {size / 1e6:.1f} | {rss:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
