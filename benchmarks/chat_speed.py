#!/usr/bin/env python3
"""Chat speed, ours against transformers on the same LLaMA-style model (a random LlamaForCausalLM converted by
the LLaMA converter), in one run:

- decoding: scripts/chat.py's generation loop (uer/generation/decoder_only.py) against transformers' generate,
  greedy, the cache on for both, at batch 1 and batch 8 (prompts of different lengths, left-padded): new tokens
  per second (rows x new tokens / seconds, the best of --repeats runs each, taking turns), and ours as a share
  of the machine's bound: each step reads every weight once, so at most (measured memory read rate / bytes of
  weights) steps per second;
- chat tuning: one pass (forward, backward, AdamW) over conversations of mixed lengths (--min_length to
  --max_length tokens, the loss on their second half): transformers on padded batches of --batch_size
  conversations, ours on the same padded batches and on packed rows of --seq_length (preprocess.py --packing's
  rows): real tokens per second and the share of padding.

    python3 benchmarks/chat_speed.py [--layers 4] [--hidden 512] [--new_tokens 64] [--repeats 3] [--threads N]

Needs `pip install -r requirements-interop.txt`.
"""
import argparse
import os
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.opts import parse_benchmark  # noqa: E402


def models(args, folder):
    import transformers
    from uer.interop.conversion import convert_to_uer, parser
    config = transformers.LlamaConfig(vocab_size=args.vocab, hidden_size=args.hidden,
                                      intermediate_size=int(args.hidden * 2.6875), num_hidden_layers=args.layers,
                                      num_attention_heads=args.hidden // 64, num_key_value_heads=max(1, args.hidden // 256),
                                      max_position_embeddings=2048, tie_word_embeddings=False)
    torch.manual_seed(0)
    hf = transformers.LlamaForCausalLM(config).eval()
    hf.save_pretrained(folder)
    out = os.path.join(folder, "uer.bin")
    convert_to_uer(parser("", ["llama"], to_uer=True).parse_args(["--input_model_path", folder, "--output_model_path",
                                                                   out]), "llama")
    from uer.model_builder import build_model
    from uer.model_loader import load_model
    from uer.opts import MODEL_DEFAULTS, load_config
    from argparse import Namespace
    ours_args = Namespace(**dict(MODEL_DEFAULTS, **load_config(os.path.join(folder, "uer.json"))))
    ours_args.factorized_embedding_parameterization = ours_args.parameter_sharing = ours_args.bidirectional = False
    ours = build_model(ours_args, args.vocab).eval()
    load_model(ours, out)
    return hf, ours


def prompts(batch, vocab, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(5, vocab, (int(n),), generator=g).tolist()
            for n in torch.randint(24, 48, (batch,), generator=g)] if batch > 1 else \
        [torch.randint(5, vocab, (32,), generator=g).tolist()]


def ours_run(model, rows, new_tokens):
    from uer.generation.decoder_only import generate
    start = time.perf_counter()
    out = generate(model, "cpu", rows, new_tokens, set())
    return time.perf_counter() - start, out


def hf_run(model, rows, new_tokens):
    width = max(map(len, rows))
    ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(ids, attention_mask=mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                             do_sample=False, use_cache=True, pad_token_id=0, eos_token_id=None)
    return time.perf_counter() - start, out[:, width:].tolist()


def conversations(args):
    g = torch.Generator().manual_seed(1)
    lengths = torch.randint(args.min_length, args.max_length + 1, (args.conversations,), generator=g).tolist()
    return [torch.randint(5, args.vocab, (n,), generator=g) for n in lengths]


def padded_batches(rows, batch_size):
    """(ids, attention mask, labels with -100 off the answers) per batch of rows, padded to its longest."""
    out = []
    for lo in range(0, len(rows), batch_size):
        part = rows[lo:lo + batch_size]
        width = max(len(r) for r in part)
        ids = torch.zeros(len(part), width, dtype=torch.long)
        mask = torch.zeros_like(ids)
        labels = torch.full_like(ids, -100)
        for i, r in enumerate(part):
            ids[i, :len(r)], mask[i, :len(r)] = r, 1
            labels[i, len(r) // 2:len(r)] = r[len(r) // 2:]
        out.append((ids, mask, labels))
    return out


def packed_rows(rows, width, batch_size):
    """(ids, documents, lm labels, lm mask) per batch of packed rows (consecutive conversations up to width)."""
    packed, current = [], []
    for r in rows:
        if current and sum(len(c) for c in current) + len(r) > width:
            packed.append(current)
            current = []
        current.append(r)
    packed.append(current)
    out = []
    for lo in range(0, len(packed), batch_size):
        part = packed[lo:lo + batch_size]
        length = max(sum(len(c) for c in row) for row in part)
        ids = torch.zeros(len(part), length, dtype=torch.long)
        docs = torch.zeros_like(ids)
        answer = torch.zeros_like(ids, dtype=torch.bool)
        for i, row in enumerate(part):
            at = 0
            for k, c in enumerate(row):
                ids[i, at:at + len(c)], docs[i, at:at + len(c)] = c, k + 1
                answer[i, at + len(c) // 2:at + len(c)] = True
                at += len(c)
        keep = answer[:, 1:] & (docs[:, 1:] == docs[:, :-1])
        out.append((ids[:, :-1], docs[:, :-1], torch.where(keep, ids[:, 1:], 0), keep.long()))
    return out


def tuning_pass(step, batches):
    start = time.perf_counter()
    for batch in batches:
        step(*batch)
    return time.perf_counter() - start


def hf_tuner(model):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def step(ids, mask, labels):
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return step


def ours_tuner(model, packed):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def step(*batch):
        if packed:
            src, docs, labels, keep = batch
            tgt = {"lm": labels, "lm_mask": keep, "documents": docs}
            seg = (docs > 0).long()
        else:
            ids, mask, labels = batch
            src, seg = ids[:, :-1], mask[:, :-1]
            keep = labels[:, 1:] >= 0
            tgt = {"lm": torch.where(keep, labels[:, 1:], 0), "lm_mask": keep.long()}
        part = model(src, tgt, seg)["lm"]
        (part["loss_sum"] / part["count"]).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return step


def tuning_table(args, hf, ours):
    rows = conversations(args)
    real = sum(len(r) for r in rows)
    padded = padded_batches(rows, args.batch_size)
    packed = packed_rows(rows, args.seq_length, max(1, args.batch_size * args.max_length // (2 * args.seq_length)))
    from uer.generation.decoder_only import training_layout
    training_layout(ours)  # the weights as a training run has them, whether or not the decoding table ran first
    hf.train()
    ours.train()
    sides = {"transformers, padded batches": (hf_tuner(hf), padded),
             "ours, padded batches": (ours_tuner(ours, False), padded),
             "ours, --packing": (ours_tuner(ours, True), packed)}
    for step, batches in sides.values():
        step(*batches[0])  # warm-up
    best = {name: min(tuning_pass(step, batches) for _ in range(max(1, args.repeats - 1)))
            for name, (step, batches) in sides.items()}
    print(f"\nchat tuning: {len(rows)} conversations of {args.min_length}-{args.max_length} tokens ({real} real "
          f"tokens), padded batches of {args.batch_size}, packed rows of {args.seq_length}\n")
    print("| run | batches | padding share | real tokens/s | ratio to transformers |")
    print("|---|---|---|---|---|")
    base = real / best["transformers, padded batches"]
    for name, (_, batches) in sides.items():
        cells = sum(b[0].numel() for b in batches)
        rate = real / best[name]
        print(f"| {name} | {len(batches)} | {1 - real / cells:.1%} | {rate:.0f} | {rate / base:.2f}x |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--new_tokens", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batches", default="1,8")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--parts", default="decoding,tuning", help="Which tables: decoding, tuning or both.")
    p.add_argument("--conversations", type=int, default=64, help="Chat tuning: conversations in the pass.")
    p.add_argument("--min_length", type=int, default=32)
    p.add_argument("--max_length", type=int, default=512)
    p.add_argument("--batch_size", type=int, default=8, help="Chat tuning: conversations per padded batch.")
    p.add_argument("--seq_length", type=int, default=1024, help="Chat tuning: the packed rows' width.")
    args = parse_benchmark(p, layers=1, hidden=64, vocab=300, new_tokens=4, repeats=1, conversations=8,
                           min_length=4, max_length=16, batch_size=2, seq_length=32)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        hf, ours = models(args, folder)
    print(f"LLaMA-style {args.layers} x {args.hidden}, vocab {args.vocab}, greedy, {args.new_tokens} new tokens, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    if "decoding" in args.parts:
        decoding_table(args, hf, ours)
    if "tuning" in args.parts:
        tuning_table(args, hf, ours)


def read_rate(megabytes=512, seconds=1.0):
    """Bytes per second this machine reads from memory: sums of a tensor far larger than its caches."""
    x = torch.ones(megabytes * (1 << 20) // 4)
    x.sum()
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        x.sum()
        runs += 1
    return x.numel() * 4 * runs / (time.perf_counter() - start)


def weight_bytes_per_step(model):
    """Bytes of the weights one decoding step reads: all but the word embedding's table, of which it reads a
    row per token, unless the output layer is that table."""
    tied = model.target.output_layer.weight is model.embedding.word_embedding.weight
    return sum(p.numel() * p.element_size() for n, p in model.named_parameters()
               if tied or not n.startswith("embedding.word_embedding."))


def decoding_table(args, hf, ours):
    rate, weights = read_rate(16 if args.smoke else 512, 0.1 if args.smoke else 1.0), weight_bytes_per_step(ours)
    bound = rate / weights
    print(f"memory read rate {rate / 1e9:.1f} GB/s, {weights / 1e6:.0f} MB of weights read per decoding step: at "
          f"most {bound:.0f} steps/s (the bound: batch x that many tokens/s)\n")
    print("| batch | ours tokens/s | transformers tokens/s | ratio | same tokens | ours / the bound |")
    print("|---|---|---|---|---|---|")
    for batch in (int(b) for b in args.batches.split(",")):
        rows = prompts(batch, args.vocab)
        ours_run(ours, rows, 2)
        hf_run(hf, rows, 2)  # warm-up
        best = {"ours": float("inf"), "hf": float("inf")}
        for _ in range(args.repeats):
            seconds, mine = ours_run(ours, rows, args.new_tokens)
            best["ours"] = min(best["ours"], seconds)
            seconds, theirs = hf_run(hf, rows, args.new_tokens)
            best["hf"] = min(best["hf"], seconds)
        tokens = batch * args.new_tokens
        rate = {k: tokens / v for k, v in best.items()}
        print(f"| {batch} | {rate['ours']:.1f} | {rate['hf']:.1f} | {rate['ours'] / rate['hf']:.2f}x | "
              f"{sum(a == b for a, b in zip(mine, theirs))}/{batch} | {rate['ours'] / (batch * bound):.0%} |")


if __name__ == "__main__":
    main()
