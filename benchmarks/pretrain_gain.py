#!/usr/bin/env python3
"""Does pre-training pay? Pre-train a small BERT on an in-domain corpus, fine-tune the task from that checkpoint
and from scratch with identical flags and seeds, and print what pre-training gained.

Tasks: douban_book_review after pre-training on corpora/book_review.txt (built from its train split), and
chnsenticorp after pre-training on corpora/chnsenticorp.txt. Before pre-training, every corpus line equal to a
dev or test text is removed (the table says how many there were), so no evaluation text is seen.

    python3 benchmarks/pretrain_gain.py --data_dir ../shared/data [--tasks douban,chnsenticorp]
        [--pretrain_steps 2400 --layers_num 2 --hidden_size 256 ...] [--plot curves.png] [--work_dir DIR]

The defaults fit 45 minutes of a 2-core CPU; on a GPU raise --pretrain_steps and the model size.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.utils.monitor.metrics import read_metrics  # noqa: E402

TASKS = {"douban": ("douban_book_review", "book_review.txt"), "chnsenticorp": ("chnsenticorp", "chnsenticorp.txt")}


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", required=True, help="Folder with datasets/, corpora/ and models/.")
    p.add_argument("--tasks", default="douban,chnsenticorp")
    p.add_argument("--work_dir", default=None, help="Where corpora, models and logs go (default: a temp folder).")
    p.add_argument("--seeds", default="1,2", help="Fine-tuning seeds; each runs from scratch and pre-trained.")
    p.add_argument("--plot", default=None, help="Write the pre-training curves of every task to this picture.")
    m = p.add_argument_group("model")
    m.add_argument("--layers_num", type=int, default=2)
    m.add_argument("--hidden_size", type=int, default=256)
    m.add_argument("--heads_num", type=int, default=4)
    m.add_argument("--vocab", choices=["corpus", "google"], default="corpus",
                   help="corpus: characters seen at least --min_count times in the task's pre-training corpus "
                        "(build_vocab.py); google: models/google_zh_vocab.txt (21128 tokens).")
    m.add_argument("--min_count", type=int, default=3)
    t = p.add_argument_group("pre-training")
    t.add_argument("--pretrain_steps", type=int, default=2400)
    t.add_argument("--pretrain_batch_size", type=int, default=16)
    t.add_argument("--pretrain_learning_rate", type=float, default=1e-3)
    t.add_argument("--pretrain_seq_length", type=int, default=128)
    t.add_argument("--pretrain_extra", default="--bias_correction --warmup 0.05 --dropout 0",
                   help="More pretrain.py flags, as one string (dropout 0: a short run underfits).")
    f = p.add_argument_group("fine-tuning (the same for both starts)")
    f.add_argument("--epochs_num", type=int, default=1)
    f.add_argument("--batch_size", type=int, default=32)
    f.add_argument("--learning_rate", type=float, default=1e-4)
    f.add_argument("--seq_length", type=int, default=128)
    f.add_argument("--pooling", default="mean", help="mean: uses every token's pre-trained state ([CLS] is not "
                                                     "trained by an MLM-only pre-training).")
    return p


def run(argv, log):
    """Run a script of this repository; its output goes to `log`; stops the benchmark if it fails."""
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run([sys.executable, *argv], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode:
        sys.exit(f"{argv[0]} failed (status {proc.returncode}); see {log}")


def texts_of(path):
    with open(path, encoding="utf-8") as f:
        next(f)
        return {line.rstrip("\n").split("\t")[1].strip() for line in f if "\t" in line}


def held_out_corpus(corpus, dataset_dir, out):
    """The corpus without the lines equal to a dev or test text; returns (lines kept, lines removed)."""
    held = texts_of(os.path.join(dataset_dir, "dev.tsv")) | texts_of(os.path.join(dataset_dir, "test.tsv"))
    kept = removed = 0
    with open(corpus, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for line in src:
            if line.strip() and line.strip() in held:
                removed += 1
                continue
            kept += 1
            dst.write(line)
    return kept, removed


def write_config(args, path):
    config = {"emb_size": args.hidden_size, "hidden_size": args.hidden_size, "feedforward_size": 4 * args.hidden_size,
              "heads_num": args.heads_num, "layers_num": args.layers_num, "dropout": 0.1, "hidden_act": "gelu",
              "max_seq_length": 512, "layer_norm_unbiased": False, "layer_norm_eps": 1e-12}
    with open(path, "w") as f:
        json.dump(config, f)


def pretrain(args, task, work, corpus, vocab_flags, config):
    data = os.path.join(work, f"{task}.pt")
    run(["preprocess.py", "--corpus_path", corpus, *vocab_flags, "--dataset_path", data, "--target", "mlm",
         "--seq_length", str(args.pretrain_seq_length), "--dynamic_masking", "--full_sentences",
         "--dup_factor", "1", "--processes_num", "2"], os.path.join(work, f"{task}_preprocess.log"))
    model = os.path.join(work, f"{task}_pretrained.bin")
    start = time.perf_counter()
    run(["pretrain.py", "--dataset_path", data, *vocab_flags[:2], "--config_path", config, "--target", "mlm",
         "--output_model_path", model, "--total_steps", str(args.pretrain_steps), "--report_steps", "25",
         "--save_checkpoint_steps", str(args.pretrain_steps), "--batch_size", str(args.pretrain_batch_size),
         "--learning_rate", str(args.pretrain_learning_rate), *args.pretrain_extra.split()],
        os.path.join(work, f"{task}_pretrain.log"))
    wall = time.perf_counter() - start
    train = [r for r in read_metrics(model + ".metrics.jsonl") if r["split"] == "train"]
    return f"{model}-{args.pretrain_steps}", model + ".metrics.jsonl", wall, train[-1]["acc_mlm"]


def fine_tune(args, task, work, dataset_dir, vocab_flags, config, seed, pretrained):
    name = f"{task}_{'pretrained' if pretrained else 'scratch'}_seed{seed}"
    out = os.path.join(work, name + ".bin")
    run(["run_classifier.py", *vocab_flags, "--config_path", config,
         "--train_path", os.path.join(dataset_dir, "train.tsv"), "--dev_path", os.path.join(dataset_dir, "dev.tsv"),
         "--test_path", os.path.join(dataset_dir, "test.tsv"), "--output_model_path", out,
         "--epochs_num", str(args.epochs_num), "--batch_size", str(args.batch_size),
         "--learning_rate", str(args.learning_rate), "--seq_length", str(args.seq_length), "--seed", str(seed),
         "--pooling", args.pooling, "--report_steps", "100",
         *(["--pretrained_model_path", pretrained] if pretrained else [])],
        os.path.join(work, name + ".log"))
    records = read_metrics(out + ".metrics.jsonl")
    dev = max(r["acc"] for r in records if r["split"] == "dev")
    test = [r["acc"] for r in records if r["split"] == "test"][-1]
    return 100 * dev, 100 * test


def mean(values):
    return sum(values) / len(values)


def main():
    args = build_parser().parse_args()
    work = args.work_dir or tempfile.mkdtemp(prefix="uer_pretrain_gain_")
    os.makedirs(work, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    config = os.path.join(work, "config.json")
    write_config(args, config)
    print(f"work folder {work}; model {args.layers_num} layers, hidden {args.hidden_size}, vocab {args.vocab}; "
          f"pre-training {args.pretrain_steps} steps x {args.pretrain_batch_size} x seq {args.pretrain_seq_length}, "
          f"lr {args.pretrain_learning_rate}; fine-tuning {args.epochs_num} epoch(s), batch {args.batch_size}, "
          f"lr {args.learning_rate}, seeds {args.seeds}", flush=True)
    rows, curves = [], []
    for task in args.tasks.split(","):
        dataset, corpus_name = TASKS[task]
        dataset_dir = os.path.join(args.data_dir, "datasets", dataset)
        corpus = os.path.join(work, f"{task}_corpus.txt")
        kept, removed = held_out_corpus(os.path.join(args.data_dir, "corpora", corpus_name), dataset_dir, corpus)
        if args.vocab == "corpus":
            vocab_flags = ["--vocab_path", os.path.join(work, f"{task}_vocab.txt"), "--tokenizer", "char"]
            run(["scripts/build_vocab.py", "--corpus_path", corpus, "--output_path", vocab_flags[1],
                 "--min_count", str(args.min_count)], os.path.join(work, f"{task}_vocab.log"))
        else:
            vocab_flags = ["--vocab_path", os.path.join(args.data_dir, "models", "google_zh_vocab.txt")]
        model, metrics, wall, mlm_acc = pretrain(args, task, work, corpus, vocab_flags, config)
        curves.append(metrics)
        scratch = [fine_tune(args, task, work, dataset_dir, vocab_flags, config, s, None) for s in seeds]
        trained = [fine_tune(args, task, work, dataset_dir, vocab_flags, config, s, model) for s in seeds]
        row = {"task": dataset, "corpus": f"{corpus_name} ({kept} lines; {removed} dev/test lines removed)",
               "steps": args.pretrain_steps, "minutes": wall / 60, "mlm_acc": mlm_acc,
               "scratch": [mean([d for d, _ in scratch]), mean([t for _, t in scratch])],
               "pretrained": [mean([d for d, _ in trained]), mean([t for _, t in trained])],
               "per_seed_test": [[t for _, t in scratch], [t for _, t in trained]]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| task | pre-training corpus | steps | wall | MLM acc | dev / test from scratch | "
          "dev / test pre-trained | test gain |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        (sd, st), (pd, pt) = r["scratch"], r["pretrained"]
        print(f"| {r['task']} | {r['corpus']} | {r['steps']} | {r['minutes']:.1f} min | {r['mlm_acc']:.3f} | "
              f"{sd:.2f} / {st:.2f} | {pd:.2f} / {pt:.2f} | {pt - st:+.2f} |")
    if args.plot:
        run(["scripts/plot_curves.py", "--input", *curves, "--output", args.plot], os.path.join(work, "plot.log"))
        print(f"\npre-training curves: {args.plot}")


if __name__ == "__main__":
    main()
