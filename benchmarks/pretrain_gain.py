#!/usr/bin/env python3
"""Does pre-training pay when labels are few? A label-efficiency curve: pre-train on the task's unlabelled text,
then fine-tune with the first N labelled training examples, from the checkpoint and from scratch with identical
flags and seeds, for each N and each model:

- bert: a small BERT pre-trained with the mlm target (dynamic masking, full sentences), fine-tuned with mean
  pooling;
- lstm: an LSTM language model (--embedding word --encoder lstm --target lm, UER-py's own headline), fine-tuned
  as --embedding word --encoder lstm with mean pooling.

The pre-training corpus is the task's corpus (douban: corpora/book_review.txt, its training split) with every
line equal to a dev or test text removed. The N examples are the first N of one seeded, label-stratified
shuffle of train.tsv (so 500 of them are among the 2,000). The best epoch is chosen on a fixed stratified
sample of dev (--dev_examples); test accuracy is on the whole test set.

    python3 benchmarks/pretrain_gain.py --data_dir ../shared/data [--train_sizes 500,2000,20000]
        [--models bert,lstm] [--seeds 1,2] [--plot label_efficiency.png] [--work_dir DIR] [--recipe gpu]

Two more ways to use the BERT checkpoint, each a table of its own: --prompt_id NAME (run_classifier_prompt.py:
zero-shot, and fine-tuned with the same N, flags and seeds) and --lora (--use_lora with its own learning rate;
with the full fine-tuning: weights trained, saved file size, minutes per epoch).

The defaults fit about 45 minutes of a 2-core CPU; --recipe gpu sets a GPU-sized run (4 layers x 512, 20,000
pre-training steps of batch 64).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.finetune.data import read_tsv  # noqa: E402
from uer.monitor.metrics import read_metrics  # noqa: E402

TASKS = {"douban": ("douban_book_review", "book_review.txt"), "chnsenticorp": ("chnsenticorp", "chnsenticorp.txt")}
RECIPES = {  # flag defaults of a named recipe
    "cpu": {},
    "gpu": {"layers_num": 4, "hidden_size": 512, "heads_num": 8, "lstm_hidden_size": 512, "bert_steps": 20000,
            "lstm_steps": 20000, "pretrain_batch_size": 64, "epochs": "20,8,3",
            "pretrain_extra": "--bias_correction --warmup 0.05 --dropout 0 --gpu_ranks 0"},
    # --smoke: the whole pipeline at tiny sizes, a few steps (the test suite runs it)
    "smoke": {"layers_num": 1, "hidden_size": 32, "heads_num": 2, "lstm_hidden_size": 32, "bert_steps": 2,
              "lstm_steps": 2, "pretrain_batch_size": 4, "pretrain_seq_length": 32, "seq_length": 32,
              "seeds": "1", "train_sizes": "32", "epochs": "1", "dev_examples": 32},
}


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", required=True, help="Folder with datasets/, corpora/ and models/.")
    p.add_argument("--tasks", default="douban")
    p.add_argument("--models", default="bert,lstm")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="cpu", help="A set of defaults for the flags below.")
    p.add_argument("--smoke", action="store_true", help="--recipe smoke: tiny sizes and a few steps, to check that "
                   "the script runs (the test suite runs it).")
    p.add_argument("--work_dir", default=None, help="Where corpora, models and logs go (default: a temp folder).")
    p.add_argument("--seeds", default="1,2", help="Fine-tuning seeds; each runs from scratch and pre-trained.")
    p.add_argument("--train_sizes", default="500,2000,20000", help="Numbers of labelled training examples.")
    p.add_argument("--epochs", default="10,4,1",
                   help="Fine-tuning epochs for each train size: fewer labels take more epochs to converge.")
    p.add_argument("--dev_examples", type=int, default=1000, help="Size of the dev sample the best epoch is chosen on.")
    p.add_argument("--plot", default=None, help="Draw test accuracy against N (log axis) to this picture.")
    m = p.add_argument_group("models")
    m.add_argument("--layers_num", type=int, default=2, help="BERT layers.")
    m.add_argument("--hidden_size", type=int, default=256, help="BERT width.")
    m.add_argument("--heads_num", type=int, default=4)
    m.add_argument("--lstm_hidden_size", type=int, default=256, help="LSTM width (one layer; emb_size the same).")
    m.add_argument("--vocab", choices=["corpus", "google"], default="corpus",
                   help="corpus: characters seen at least --min_count times in the task's pre-training corpus "
                        "(build_vocab.py); google: models/google_zh_vocab.txt (21128 tokens).")
    m.add_argument("--min_count", type=int, default=3)
    t = p.add_argument_group("pre-training")
    t.add_argument("--bert_steps", type=int, default=1600)
    t.add_argument("--lstm_steps", type=int, default=1600)
    t.add_argument("--pretrain_batch_size", type=int, default=16)
    t.add_argument("--pretrain_learning_rate", type=float, default=1e-3)
    t.add_argument("--pretrain_seq_length", type=int, default=128)
    t.add_argument("--pretrain_extra", default="--bias_correction --warmup 0.05 --dropout 0",
                   help="More pretrain.py flags, as one string (dropout 0: a short run underfits).")
    f = p.add_argument_group("fine-tuning (the same for both starts)")
    f.add_argument("--batch_size", type=int, default=32)
    f.add_argument("--learning_rate", type=float, default=1e-4)
    f.add_argument("--lstm_learning_rate", type=float, default=1e-3)
    f.add_argument("--seq_length", type=int, default=128)
    f.add_argument("--prompt_id", default=None,
                   help="Also classify with this prompt of --prompt_path (run_classifier_prompt.py, bert only): "
                        "zero-shot, and fine-tuned from the checkpoint with the same N, flags and seeds.")
    f.add_argument("--prompt_path", default=os.path.join(ROOT, "models", "prompts.json"))
    f.add_argument("--lora", action="store_true",
                   help="Also fine-tune the checkpoint with --use_lora (bert only), and report for it and the full "
                        "fine-tuning the weights that train, the saved file's size and the time per epoch.")
    f.add_argument("--lora_learning_rate", type=float, default=1e-3)
    return p


def parse_args(argv=None):
    parser = build_parser()
    args, _ = parser.parse_known_args(argv)
    parser.set_defaults(**RECIPES["smoke" if args.smoke else args.recipe])
    return parser.parse_args(argv)


def run(argv, log):
    """Run a script of this repository; its output goes to `log`; stops the benchmark if it fails."""
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run([sys.executable, *argv], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode:
        sys.exit(f"{argv[0]} failed (status {proc.returncode}); see {log}")


def texts_of(path):
    return {t.strip() for t in read_tsv(path, ["text_a"])["text_a"]}


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


def stratified_order(labels, seed):
    """A seeded shuffle in which every prefix holds the labels in the proportions of the whole set."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    keys = np.empty(len(labels))
    for value in np.unique(labels):
        where = np.flatnonzero(labels == value)
        keys[rng.permutation(where)] = (np.arange(len(where)) + rng.random()) / len(where)
    return np.argsort(keys, kind="stable")


def write_subset(path, out, count, seed=0):
    """The first `count` rows of a stratified shuffle of the TSV `path`, with its header."""
    with open(path, encoding="utf-8") as f:
        header, *rows = [line for line in f.read().split("\n") if line.strip()]
    labels = [row.split("\t")[0] for row in rows]
    picked = stratified_order(labels, seed)[:count]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join([header] + [rows[i] for i in picked]) + "\n")
    return out


def write_config(path, config):
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def model_recipes(args, work):
    """name -> (config, preprocess flags, pretrain flags, fine-tuning flags)."""
    bert = write_config(os.path.join(work, "bert_config.json"), {
        "emb_size": args.hidden_size, "hidden_size": args.hidden_size, "feedforward_size": 4 * args.hidden_size,
        "heads_num": args.heads_num, "layers_num": args.layers_num, "dropout": 0.1, "hidden_act": "gelu",
        "max_seq_length": 512, "layer_norm_unbiased": False, "layer_norm_eps": 1e-12})
    lstm = write_config(os.path.join(work, "lstm_config.json"), {
        "emb_size": args.lstm_hidden_size, "hidden_size": args.lstm_hidden_size, "layers_num": 1, "dropout": 0.1})
    lstm_model = ["--embedding", "word", "--encoder", "lstm"]
    return {
        "bert": (bert, ["--target", "mlm", "--dynamic_masking"], ["--target", "mlm", "--total_steps",
                 str(args.bert_steps)], ["--learning_rate", str(args.learning_rate)]),
        "lstm": (lstm, ["--target", "lm"], lstm_model + ["--target", "lm", "--total_steps", str(args.lstm_steps)],
                 lstm_model + ["--learning_rate", str(args.lstm_learning_rate)]),
    }


def pretrain(args, name, recipe, work, corpus, vocab_flags):
    config, pre_flags, train_flags, _ = recipe
    data = os.path.join(work, f"{name}.pt")
    run(["preprocess.py", "--corpus_path", corpus, *vocab_flags, "--dataset_path", data, *pre_flags,
         "--seq_length", str(args.pretrain_seq_length), "--full_sentences", "--dup_factor", "1",
         "--processes_num", "2"], os.path.join(work, f"{name}_preprocess.log"))
    model = os.path.join(work, f"{name}_pretrained.bin")
    steps = train_flags[train_flags.index("--total_steps") + 1]
    start = time.perf_counter()
    run(["pretrain.py", "--dataset_path", data, *vocab_flags[:2], "--config_path", config, *train_flags,
         "--output_model_path", model, "--report_steps", "25", "--save_checkpoint_steps", steps,
         "--batch_size", str(args.pretrain_batch_size), "--learning_rate", str(args.pretrain_learning_rate),
         *args.pretrain_extra.split()], os.path.join(work, f"{name}_pretrain.log"))
    train = [r for r in read_metrics(model + ".metrics.jsonl") if r["split"] == "train"]
    accuracy = next(v for k, v in train[-1].items() if k.startswith("acc_"))
    return f"{model}-{steps}", time.perf_counter() - start, accuracy


def fine_tune(args, name, recipe, work, files, vocab_flags, epochs, seed, pretrained, kind=None):
    """(best dev accuracy, its epoch, test accuracy) in percent and the run's costs; kind "prompt": with
    run_classifier_prompt.py, "lora": with --use_lora."""
    config, _, _, flags = recipe
    kind = kind or ("pretrained" if pretrained else "scratch")
    run_name = f"{name}_n{files['n']}_{kind}_seed{seed}"
    out, log = os.path.join(work, run_name + ".bin"), os.path.join(work, run_name + ".log")
    script = ["run_classifier_prompt.py", *prompt_flags(args)] if kind == "prompt" else \
        ["run_classifier.py", "--pooling", "mean"]
    if kind == "lora":
        flags = [*flags, "--use_lora", "--learning_rate", str(args.lora_learning_rate)]
    run([*script, *vocab_flags, "--config_path", config, *flags, "--train_path", files["train"],
         "--dev_path", files["dev"], "--test_path", files["test"], "--output_model_path", out,
         "--epochs_num", str(epochs), "--batch_size", str(args.batch_size), "--seq_length", str(args.seq_length),
         "--seed", str(seed), "--report_steps", "1000",
         *(["--pretrained_model_path", pretrained] if pretrained else [])], log)
    records = read_metrics(out + ".metrics.jsonl")
    dev = [r for r in records if r["split"] == "dev"]
    best = max(dev, key=lambda r: r["acc"])
    costs = {"file_mb": os.path.getsize(out) / 2 ** 20, "trained": trained_weights(log, out),
             "epoch_minutes": float(np.mean(np.diff([r["time"] for r in dev]))) / 60 if len(dev) > 1 else None}
    os.unlink(out)
    return 100 * best["acc"], best["epoch"], 100 * [r["acc"] for r in records if r["split"] == "test"][-1], costs


def trained_weights(log, model_path):
    """The weights that train: the count --use_lora prints, else every weight of the saved model."""
    with open(log, encoding="utf-8") as f:
        for line in f:
            if line.startswith("LoRA: "):
                return int(line.split()[1].replace(",", ""))
    import torch
    return sum(t.numel() for t in torch.load(model_path, weights_only=True).values())


def prompt_flags(args):
    return ["--prompt_path", args.prompt_path, "--prompt_id", args.prompt_id]


def zero_shot(args, name, recipe, work, files, vocab_flags, pretrained):
    """Test accuracy (percent) of the pre-trained MLM head reading the prompt's answer words, untrained."""
    out = os.path.join(work, f"{name}_zero_shot.bin")
    run(["run_classifier_prompt.py", *prompt_flags(args), *vocab_flags, "--config_path", recipe[0],
         "--dev_path", files["dev"], "--test_path", files["test"], "--output_model_path", out,
         "--seq_length", str(args.seq_length), "--pretrained_model_path", pretrained],
        os.path.join(work, f"{name}_zero_shot.log"))
    return 100 * [r["acc"] for r in read_metrics(out + ".metrics.jsonl") if r["split"] == "test"][-1]


def summary(values):
    return {"mean": float(np.mean(values)), "spread": float(np.max(values) - np.min(values)), "each": values}


def run_task(args, task, work, seeds, sizes, epochs):
    dataset, corpus_name = TASKS[task]
    dataset_dir = os.path.join(args.data_dir, "datasets", dataset)
    corpus = os.path.join(work, f"{task}_corpus.txt")
    kept, removed = held_out_corpus(os.path.join(args.data_dir, "corpora", corpus_name), dataset_dir, corpus)
    print(f"{task}: pre-training corpus {corpus_name}, {kept} lines kept, {removed} equal to a dev/test text "
          "removed", flush=True)
    if args.vocab == "corpus":
        vocab_flags = ["--vocab_path", os.path.join(work, f"{task}_vocab.txt"), "--tokenizer", "char"]
        run(["scripts/build_vocab.py", "--corpus_path", corpus, "--output_path", vocab_flags[1],
             "--min_count", str(args.min_count), "--tokenizer", "char"], os.path.join(work, f"{task}_vocab.log"))
    else:
        vocab_flags = ["--vocab_path", os.path.join(args.data_dir, "models", "google_zh_vocab.txt")]
    dev = write_subset(os.path.join(dataset_dir, "dev.tsv"), os.path.join(work, f"{task}_dev.tsv"), args.dev_examples)
    rows = []
    for name, recipe in model_recipes(args, work).items():
        if name not in args.models.split(","):
            continue
        checkpoint, wall, accuracy = pretrain(args, f"{task}_{name}", recipe, work, corpus, vocab_flags)
        print(f"{task} {name}: pre-trained in {wall / 60:.1f} min, last accuracy {accuracy:.3f}", flush=True)
        prompting = bool(args.prompt_id) and name == "bert"
        zero = zero_shot(args, f"{task}_{name}", recipe, work, {"dev": dev, "test": os.path.join(
            dataset_dir, "test.tsv")}, vocab_flags, checkpoint) if prompting else None
        for n, n_epochs in zip(sizes, epochs):
            files = {"n": n, "dev": dev, "test": os.path.join(dataset_dir, "test.tsv"),
                     "train": write_subset(os.path.join(dataset_dir, "train.tsv"),
                                           os.path.join(work, f"{task}_train_{n}.tsv"), n)}
            start = time.perf_counter()
            runs = {start_name: [fine_tune(args, f"{task}_{name}", recipe, work, files, vocab_flags, n_epochs, s,
                                           checkpoint if start_name == "pretrained" else None) for s in seeds]
                    for start_name in ("scratch", "pretrained")}
            for kind in (["prompt"] if prompting else []) + (["lora"] if args.lora and name == "bert" else []):
                runs[kind] = [fine_tune(args, f"{task}_{name}", recipe, work, files, vocab_flags, n_epochs, s,
                                        checkpoint, kind) for s in seeds]
            row = {"task": dataset, "model": name, "n": n, "epochs": n_epochs, "pretrain_minutes": wall / 60,
                   "pretrain_accuracy": accuracy, "minutes": (time.perf_counter() - start) / 60,
                   **{k: summary([t for _, _, t, _ in v]) for k, v in runs.items()},
                   "best_epochs": {k: [e for _, e, _, _ in v] for k, v in runs.items()},
                   "costs": {k: v[0][3] for k, v in runs.items()},
                   **({"zero_shot": zero} if prompting else {})}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def print_table(rows):
    print_markdown(["task", "model", "N", "epochs", "test acc. from scratch", "pre-trained", "gain",
                    "best epochs (scratch; pre-trained)"],
                   [[r["task"], r["model"], r["n"], r["epochs"], spread(r["scratch"]), spread(r["pretrained"]),
                     f"**{r['pretrained']['mean'] - r['scratch']['mean']:+.2f}**",
                     "; ".join(", ".join(map(str, r["best_epochs"][k])) for k in ("scratch", "pretrained"))]
                    for r in rows])
    prompted = [r for r in rows if "prompt" in r]
    if prompted:
        print_markdown(["task", "N", "run_classifier.py, pre-trained", "run_classifier_prompt.py, pre-trained",
                        "zero-shot prompt"],
                       [[r["task"], r["n"], spread(r["pretrained"]), spread(r["prompt"]), f"{r['zero_shot']:.2f}"]
                        for r in prompted])
    with_lora = [r for r in rows if "lora" in r]
    if with_lora:
        print_markdown(["task", "N", "fine-tuning", "test acc.", "weights trained", "saved file", "minutes per epoch"],
                       [[r["task"], r["n"], label, spread(r[kind]), f"{r['costs'][kind]['trained']:,}",
                         f"{r['costs'][kind]['file_mb']:.2f} MB", minutes(r["costs"][kind]["epoch_minutes"])]
                        for r in with_lora
                        for kind, label in (("pretrained", "full, pre-trained"), ("lora", "LoRA, pre-trained"))])


def print_markdown(header, lines):
    print("\n| " + " | ".join(header) + " |\n" + "|---" * len(header) + "|")
    for line in lines:
        print("| " + " | ".join(map(str, line)) + " |")


def minutes(value):
    return f"{value:.2f}" if value is not None else "-"


def spread(summary):
    return f"{summary['mean']:.2f} (spread {summary['spread']:.2f})"


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for k, (task, model) in enumerate(dict.fromkeys((r["task"], r["model"]) for r in rows)):
        mine = [r for r in rows if (r["task"], r["model"]) == (task, model)]
        for start, style in (("scratch", "--"), ("pretrained", "-")):
            ax.plot([r["n"] for r in mine], [r[start]["mean"] for r in mine], style, marker="o", color=f"C{k}",
                    label=f"{model}, {'pre-trained' if start == 'pretrained' else 'from scratch'}")
    ax.set_xscale("log")
    sizes = sorted({r["n"] for r in rows})
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("labelled training examples (N)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(", ".join(dict.fromkeys(r["task"] for r in rows)))
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    args = parse_args()
    work = args.work_dir or tempfile.mkdtemp(prefix="uer_pretrain_gain_")
    os.makedirs(work, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes, epochs = [int(n) for n in args.train_sizes.split(",")], [int(e) for e in args.epochs.split(",")]
    if len(epochs) != len(sizes):
        sys.exit(f"--epochs needs one number per --train_sizes entry ({len(sizes)})")
    print(f"work folder {work}; {json.dumps(vars(args))}", flush=True)
    start = time.perf_counter()
    rows = [row for task in args.tasks.split(",") for row in run_task(args, task, work, seeds, sizes, epochs)]
    print_table(rows)
    print(f"\nwhole benchmark: {(time.perf_counter() - start) / 60:.1f} min")
    if args.plot:
        plot(rows, args.plot)
        print(f"label-efficiency picture: {args.plot}")


if __name__ == "__main__":
    main()
