#!/usr/bin/env python3
"""Pre-training throughput: ours vs HuggingFace transformers' BertForPreTraining, same config, batch and length.

    python3 benchmarks/pretrain_speed.py [--steps 5] [--models base,tiny] [--threads N]

Ours and HF steps are timed in alternation and each reported as its median, so the ratio holds up on a noisy
machine. Prints a table of tokens/s (batch x seq_length per second, as UER-py counts), the ratio to HF, the machine's
measured fp32/bf16 matrix-product rates and our model-FLOPs utilisation (6 x non-embedding parameters x
tokens/s / fp32 rate). Needs `pip install transformers` for the HF rows (they are skipped without it).
bf16 rows run only where the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX) or on CUDA.
"""
import argparse
import os
import sys
import time
from argparse import Namespace

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.model_builder import build_model  # noqa: E402
from uer.opts import MODEL_DEFAULTS, load_config, REPO_ROOT  # noqa: E402
from uer.utils.optimizers import build_optimizer  # noqa: E402
from uer.utils.precision import Precision, cpu_has_fast_bf16  # noqa: E402

VOCAB = 21128  # google_zh_vocab.txt
# name: (label, config, batch, embedding, encoder, target); HF has a counterpart only for the BERT rows.
CASES = {"base": ("BERT-base", "bert_base_config.json", 8, "bert", "bert", "bert"),
         "tiny": ("BERT-tiny", "bert_tiny_config.json", 32, "bert", "bert", "bert"),
         "lstm": ("LSTM lm", "rnn_config.json", 32, "word", "lstm", "lm"),
         "gatedcnn": ("GatedCNN-9 lm", "gatedcnn_9_config.json", 8, "word", "gatedcnn", "lm")}


def matmul_rate(dtype, device, n=2048, seconds=1.0):
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        runs += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n ** 3 * runs / (time.perf_counter() - start)


def make_batch(batch, seq, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(5, VOCAB, (batch, seq), generator=g)
    seg = torch.ones(batch, seq, dtype=torch.long)
    seg[:, seq // 2:] = 2
    masked = torch.rand(batch, seq, generator=g) < 0.15
    masked[:, 0] = False
    tgt = torch.where(masked, src, torch.zeros_like(src))
    nsp = torch.randint(0, 2, (batch,), generator=g)
    return [t.to(device) for t in (src, seg, tgt, nsp)]


def ours(config, batch, seq, device, fp16, embedding="bert", encoder="bert", target="bert"):
    args = Namespace(**dict(MODEL_DEFAULTS, **config))
    args.__dict__.update(embedding=embedding, encoder=encoder, target=target, tie_weights=False, learning_rate=1e-4,
                         warmup=0.1, beta1=0.9, beta2=0.999, factorized_embedding_parameterization=False,
                         parameter_sharing=False, bidirectional=False)
    torch.manual_seed(0)
    model = build_model(args, VOCAB).to(device).train()
    optimizer, scheduler = build_optimizer(model, args, 1000)
    precision = Precision(fp16, "O1", device)
    src, seg, tgt, nsp = make_batch(batch, seq, device)
    targets = {"mlm": tgt, "label": nsp} if target == "bert" else {"lm": torch.roll(src, -1, 1)}

    def step():
        with precision.autocast():
            parts = model(src, targets, seg)
        loss = sum(p["loss_sum"] / p["count"] for p in parts.values())
        precision.backward(loss)
        precision.step(optimizer)
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    non_emb = sum(p.numel() for n, p in model.named_parameters() if n.startswith("encoder."))
    return step, non_emb


def huggingface(config, batch, seq, device, fp16):
    from transformers import BertConfig, BertForPreTraining
    hf_config = BertConfig(vocab_size=VOCAB, hidden_size=config["hidden_size"],
                           num_hidden_layers=config["layers_num"], num_attention_heads=config["heads_num"],
                           intermediate_size=config["feedforward_size"], max_position_embeddings=512,
                           type_vocab_size=3)
    torch.manual_seed(0)
    model = BertForPreTraining(hf_config).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    src, seg, tgt, nsp = make_batch(batch, seq, device)
    labels = torch.where(tgt > 0, tgt, torch.full_like(tgt, -100))
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    scaler = torch.amp.GradScaler(device.type, enabled=fp16 and device.type == "cuda")

    def step():
        with torch.autocast(device.type, dtype=dtype, enabled=fp16):
            out = model(input_ids=src, token_type_ids=seg, attention_mask=(seg > 0).long(), labels=labels,
                        next_sentence_label=nsp)
        scaler.scale(out.loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        return out.loss.item()

    return step, None


def median_step_times(steps_fns, steps):
    """Median seconds per step of each function, timed in alternation so that drift hits all of them alike."""
    for step in steps_fns:
        step()
    times = [[] for _ in steps_fns]
    for _ in range(steps):
        for step, record in zip(steps_fns, times):
            start = time.perf_counter()
            step()
            record.append(time.perf_counter() - start)
    return [sorted(t)[len(t) // 2] for t in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5,
                        help="Timed steps per model and row (after one warm-up step); ours and HF alternate.")
    parser.add_argument("--models", default="base,tiny,lstm,gatedcnn", help=f"Rows, from {', '.join(CASES)}.")
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default).")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    fp32_rate = matmul_rate(torch.float32, device)
    half = torch.float16 if device.type == "cuda" else torch.bfloat16
    fast_half = device.type == "cuda" or cpu_has_fast_bf16()
    half_rate = matmul_rate(half, device, n=512 if not fast_half else 2048, seconds=0.5)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"matrix products: fp32 {fp32_rate / 1e9:.0f} GFLOP/s, {str(half).split('.')[-1]} "
          f"{half_rate / 1e9:.0f} GFLOP/s" + ("" if fast_half else " (no native bf16 on this CPU)"))
    try:
        import transformers  # noqa: F401
        have_hf = True
    except ImportError:
        have_hf = False
        print("transformers is not installed: HF rows skipped (pip install transformers)")
    print("\n| model | precision | batch | seq | ours tokens/s | HF tokens/s | ours / HF | ours MFU |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        title, config_file, batch, embedding, encoder, target = CASES[name]
        config = load_config(os.path.join(REPO_ROOT, "models", config_file))
        with_hf = have_hf and encoder == "bert"
        for fp16 in (False, True):
            label = "fp32" if not fp16 else f"--fp16 ({str(half).split('.')[-1]})"
            if fp16 and not fast_half:
                print(f"| {title} | {label} | {batch} | {args.seq_length} | n/a | n/a | | (no native bf16) |")
                continue
            step, non_emb = ours(config, batch, args.seq_length, device, fp16, embedding, encoder, target)
            fns = [step] + ([huggingface(config, batch, args.seq_length, device, fp16)[0]] if with_hf else [])
            t_ours, hf = (median_step_times(fns, args.steps) + [None])[:2]
            del step, fns
            tok = batch * args.seq_length
            rate = fp32_rate if not fp16 else half_rate
            mfu = 6 * non_emb * tok / t_ours / rate
            hf_cell = f"{tok / hf:.0f}" if hf else "-"
            ratio = f"{hf / t_ours:.2f}x" if hf else "-"
            print(f"| {title} | {label} | {batch} | {args.seq_length} | {tok / t_ours:.0f} | {hf_cell} | "
                  f"{ratio} | {mfu:.0%} |", flush=True)


if __name__ == "__main__":
    main()
