#!/usr/bin/env python3
"""Does the decoder workflow learn, end to end, as a user runs it? On synthetic digit tasks (reverse, sort,
one-digit sums; benchmarks/data/synthetic_chat.py) a LLaMA-style model of models/llama_chat_tiny_config.json is
pre-trained from scratch with --target llm_pretrain, chat-tuned on multi-turn conversations (--target chat) without
and with --packing, each answering held-out conversations through scripts/chat.py (exact match of the last
answer), and preference-trained with run_dpo.py (held-out share of pairs whose chosen answer the model finds more
likely, before and after: the answers written "answer: X" preferred to the bare X the chat-tuned model gives). Prints the table of docs/decoders.md.

    python3 benchmarks/decoder_proof.py [--conversations 6000] [--epochs 3] [--work_dir DIR]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.opts import parse_benchmark  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "benchmarks", "data"))
import synthetic_chat as synthetic  # noqa: E402

CONFIG = os.path.join(ROOT, "models", "llama_chat_tiny_config.json")
TOKENIZER = ["--tokenizer", "hf", "--tokenizer_path", os.path.join(ROOT, "models", "chat_tokenizer", "tokenizer.json")]


def run(script, *args):
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode:
        sys.exit(f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout, time.perf_counter() - start


def instances(out):
    return int(re.search(r": (\d+) instances", out).group(1))


def train(work, name, dataset, steps, batch, lr, start=None):
    more = ["--pretrained_model_path", start] if start else []
    _, seconds = run("pretrain.py", "--dataset_path", dataset, *TOKENIZER[2:], "--config_path", CONFIG,
                     "--output_model_path", os.path.join(work, name), "--total_steps", steps, "--batch_size", batch,
                     "--learning_rate", lr, "--warmup", 0.05, "--report_steps", max(1, steps // 5),
                     "--save_checkpoint_steps", steps, "--target", "lm", *more)
    return os.path.join(work, f"{name}-{steps}"), seconds


def exact_match(work, model, test):
    out, seconds = run("scripts/chat.py", "--pretrained_model_path", model, "--config_path", CONFIG, *TOKENIZER,
                       "--input_path", test, "--output_path", os.path.join(work, "answers.jsonl"),
                       "--seq_length", 256, "--max_new_tokens", 12, "--batch_size", 32)
    return float(re.search(r"exact match \d+/\d+ = ([0-9.]+)", out).group(1)), seconds


def dpo(work, model, train_path, dev_path, epochs, lr):
    out, seconds = run("run_dpo.py", "--pretrained_model_path", model, "--config_path", CONFIG, *TOKENIZER,
                       "--train_path", train_path, "--dev_path", dev_path, "--output_model_path",
                       os.path.join(work, "dpo.bin"), "--epochs_num", epochs, "--batch_size", 16, "--learning_rate", lr,
                       "--seq_length", 128, "--beta", 0.1, "--report_steps", 1000)
    shares = [float(x) for x in re.findall(r"dev: prefers_chosen ([0-9.]+)", out)]
    return shares, seconds


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--texts", type=int, default=4000, help="Pre-training texts.")
    p.add_argument("--pretrain_steps", type=int, default=800)
    p.add_argument("--conversations", type=int, default=6000, help="Chat-tuning conversations.")
    p.add_argument("--epochs", type=float, default=5, help="Passes over the conversations in chat tuning.")
    p.add_argument("--test", type=int, default=300, help="Held-out conversations.")
    p.add_argument("--pairs", type=int, default=1000, help="Preference pairs (and a fifth of that held out).")
    p.add_argument("--batch_size", type=int, default=16, help="Conversations per step (padded rows).")
    p.add_argument("--dpo_epochs", type=int, default=3)
    p.add_argument("--dpo_lr", type=float, default=5e-5)
    p.add_argument("--work_dir", default=None)
    args = parse_benchmark(p, texts=64, pretrain_steps=2, conversations=64, epochs=1, test=8, pairs=32, batch_size=4)
    work = args.work_dir or tempfile.mkdtemp(prefix="decoder_proof_")
    os.makedirs(work, exist_ok=True)
    path = {name: os.path.join(work, f"{name}.jsonl") for name in ("texts", "chat", "test", "pairs", "pairs_dev")}
    synthetic.write_jsonl(path["texts"], synthetic.pretraining_texts(args.texts, 1))
    synthetic.write_jsonl(path["chat"], synthetic.conversations(args.conversations, 2))
    synthetic.write_jsonl(path["test"], synthetic.conversations(args.test, 3))
    synthetic.write_jsonl(path["pairs"], synthetic.preferences(args.pairs, 4))
    synthetic.write_jsonl(path["pairs_dev"], synthetic.preferences(max(args.pairs // 5, 8), 5))

    def preprocess(target, source, name, *more):
        out, _ = run("preprocess.py", "--corpus_path", source, *TOKENIZER, "--target", target, "--seq_length", 256,
                     "--dataset_path", os.path.join(work, name), *more)
        return os.path.join(work, name), instances(out)
    texts, _ = preprocess("llm_pretrain", path["texts"], "texts.pt", "--full_sentences")
    base, pretrain_seconds = train(work, "base.bin", texts, args.pretrain_steps, args.batch_size, 2e-3)
    rows, plain_count = [], None
    for packing in (False, True):
        dataset, count = preprocess("chat", path["chat"], f"chat{'_packed' if packing else ''}.pt",
                                    *(["--packing"] if packing else []))
        # the same steps over the same conversations: packed batches hold fewer, fuller rows
        plain_count = plain_count or count
        batch = max(1, round(args.batch_size * count / plain_count))
        steps = max(1, round(args.epochs * plain_count / args.batch_size))
        model, seconds = train(work, f"chat{'_packed' if packing else ''}.bin", dataset, steps, batch, 2e-3, base)
        em, _ = exact_match(work, model, path["test"])
        rows.append((packing, count, batch, steps, seconds, em, model))
    before, _ = dpo(work, rows[1][6], path["pairs"], path["pairs_dev"], 1, 0.0)  # learning rate 0: the start
    shares, dpo_seconds = dpo(work, rows[1][6], path["pairs"], path["pairs_dev"], args.dpo_epochs, args.dpo_lr)
    print(f"\npre-training (llm_pretrain, {args.texts} texts, {args.pretrain_steps} steps): {pretrain_seconds:.0f} s\n")
    print("| chat tuning | rows | rows per batch | steps | seconds | held-out exact match |")
    print("|---|---|---|---|---|---|")
    for packing, count, batch, steps, seconds, em, _ in rows:
        print(f"| {'--packing' if packing else 'padded rows'} | {count} | {batch} | {steps} | {seconds:.0f} | "
              f"{em:.4f} |")
    print(f"\nDPO (run_dpo.py, {args.pairs} pairs, {args.dpo_epochs} epochs, {dpo_seconds:.0f} s): held-out share "
          "preferring chosen "
          f"before {before[0]:.4f}, after each epoch: {', '.join(f'{s:.4f}' for s in shares)}")


if __name__ == "__main__":
    main()
