#!/usr/bin/env python3
"""Pre-training throughput: ours vs HuggingFace transformers' BertForPreTraining (and LlamaForCausalLM for the
LLaMA-style row), same config, batch and length.

    python3 benchmarks/pretrain_speed.py [--steps 6] [--models base,tiny] [--threads N] [--hf_keeps_freed_memory]
                                         [--compile]

Ours and HF each run in a process of their own and take turns, a few steps at a time (the first step of each
turn, which finds the caches holding the other model, is not counted); each is reported as the median of its
counted steps, so the ratio holds up on a noisy machine. On CPU ours keeps freed memory as pretrain.py does,
and HF runs with the allocator's defaults, as its users run it; --hf_keeps_freed_memory gives HF the same
setting, which compares the code alone.

Ours runs with the layer norm of the shipped configs (UER-py's 2020 formula, models/*.json say nothing about
layer norm); BERT rows add ours with the fused standard kernel ("layer_norm_unbiased": false) as a third
process in the same turns, and print what the 2020 formula costs beside it.

--compile adds ours under torch.compile (as pretrain.py --compile runs it) as one more side of each row, and
prints how long its first step took (compiling) against the eager first step.

Prints a table of tokens/s (batch x seq_length per second, as UER-py counts), the ratio to HF, the machine's
measured fp32/bf16 matrix-product rates and our model-FLOPs utilisation (6 x non-embedding parameters x
tokens/s / fp32 rate; for lm targets the output layer counts too: it runs at every position). Needs
`pip install transformers` for the HF rows (they are skipped without it).
bf16 rows run only where the CPU has native bf16 matrix instructions (AVX512-BF16 or AMX) or on CUDA.
"""
import argparse
import itertools
import os
import sys
import time
from argparse import Namespace

import torch
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.model_builder import build_model  # noqa: E402
from uer.opts import MODEL_DEFAULTS, REPO_ROOT, load_config, parse_benchmark  # noqa: E402
from uer.optim.optimizers import build_optimizer  # noqa: E402
from uer.runtime.compile import compile_model  # noqa: E402
from uer.runtime.memory import keep_freed_memory  # noqa: E402
from uer.runtime.precision import Precision, cpu_has_fast_bf16  # noqa: E402

VOCAB = 21128  # google_zh_vocab.txt
LLAMA_VOCAB = 32000
# A LLaMA-style decoder: 4 layers x 512, 8 heads, 2 key/value heads, SwiGLU, RMSNorm, RoPE (seq 256).
LLAMA = {"emb_size": 512, "hidden_size": 512, "feedforward_size": 1376, "heads_num": 8, "local_kv_heads_num": 2,
         "layers_num": 4, "dropout": 0.0, "max_seq_length": 2048, "hidden_act": "silu", "embedding": "word",
         "remove_embedding_layernorm": True, "encoder": "transformer", "mask": "causal",
         "layernorm_positioning": "pre", "layernorm": "rms", "layer_norm_eps": 1e-6, "feed_forward": "gated",
         "remove_transformer_bias": True, "rotary_position_embedding": True, "has_lmtarget_bias": False}
# T5-small and BART-base as their HF configs give them (converted to ours as the conversion scripts do).
T5_SMALL = dict(d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8, feed_forward_proj="relu",
                vocab_size=32128, model_type="t5", dropout_rate=0.1)
BART_BASE = dict(d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
                 decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1024,
                 vocab_size=50265, model_type="bart", dropout=0.1)
SEQ2SEQ = {"t5": T5_SMALL, "bart": BART_BASE}
# name: (label, config, batch, embedding, encoder, target); HF has a counterpart for the BERT, LLaMA, T5, BART rows.
CASES = {"base": ("BERT-base", "bert_base_config.json", 8, "bert", "bert", "bert"),
         "tiny": ("BERT-tiny", "bert_tiny_config.json", 32, "bert", "bert", "bert"),
         "lstm": ("LSTM lm", "rnn_config.json", 32, "word", "lstm", "lm"),
         "gatedcnn": ("GatedCNN-9 lm", "gatedcnn_9_config.json", 8, "word", "gatedcnn", "lm"),
         "llama": ("LLaMA-style 4x512", LLAMA, 8, "word", "transformer", "lm"),
         "t5": ("T5-small", "t5", 8, None, "transformer", "lm"),
         "bart": ("BART-base", "bart", 8, None, "transformer", "lm")}


def seq2seq_config(name, smoke=False):
    from uer.interop import families
    sizes = dict(SEQ2SEQ[name], **SMOKE_SEQ2SEQ[name]) if smoke else SEQ2SEQ[name]
    family = families.family_of_source(families.SEQ2SEQ, sizes, name)
    return dict(family.module.config_to_uer(sizes, name), hf_sizes_for_benchmark=sizes,
                vocab_size_for_benchmark=sizes["vocab_size"])


# --smoke: every row at these sizes, a step or two: the script's paths in seconds (the test suite runs it).
SMOKE = {"emb_size": 32, "hidden_size": 32, "feedforward_size": 64, "heads_num": 2, "layers_num": 1,
         "local_kv_heads_num": 1}
SMOKE_SEQ2SEQ = {"t5": dict(d_model=32, d_kv=16, d_ff=64, num_layers=1, num_heads=2),
                 "bart": dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                              decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64)}


def row_config(config_file, smoke):
    """Our config of a row: a dict as it is, a seq2seq family's HF sizes converted, or a file of models/."""
    if isinstance(config_file, dict):
        config = dict(config_file)
    elif config_file in SEQ2SEQ:
        return seq2seq_config(config_file, smoke)
    else:
        config = load_config(os.path.join(REPO_ROOT, "models", config_file))
    return dict(config, **{k: v for k, v in SMOKE.items() if k in config}) if smoke else config


def vocab_of(config):
    return config.get("vocab_size_for_benchmark") or (LLAMA_VOCAB if config.get("rotary_position_embedding") else VOCAB)


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


def make_batch(batch, seq, device, seed=0, vocab=VOCAB):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(5, vocab, (batch, seq), generator=g)
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
    if config.get("decoder"):
        args.embedding = config["embedding"]
    vocab = vocab_of(config)
    torch.manual_seed(0)
    model = build_model(args, vocab).to(device).train()
    if config.get("compile_for_benchmark"):
        compile_model(model, device)
    optimizer, scheduler = build_optimizer(model, args, 1000)
    precision = Precision(fp16, "O1", device)
    src, seg, tgt, nsp = make_batch(batch, seq, device, vocab=vocab)
    targets = {"mlm": tgt, "label": nsp} if target == "bert" else {"lm": torch.roll(src, -1, 1)}
    if config.get("decoder"):  # the target: another text of the same length, read shifted right
        seg = torch.ones_like(src)
        labels = make_batch(batch, seq, device, seed=1, vocab=vocab)[0]
        targets = {"tgt_in": torch.roll(labels, 1, 1), "tgt_seg": torch.ones_like(labels), "lm": labels}

    def step():
        with precision.autocast():
            parts = model(src, targets, seg)
        loss = sum(p["loss_sum"] / p["count"] for p in parts.values())
        precision.backward(loss)
        precision.step(optimizer)
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    every_position = ("encoder.", "decoder.", "target.") if target == "lm" else ("encoder.",)
    non_emb = sum(p.numel() for n, p in model.named_parameters() if n.startswith(every_position))
    return step, non_emb


def hf_step(model, device, fp16, **inputs):
    """One training step of a HF model (AdamW, autocast and grad scaling as HF users write them)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    scaler = torch.amp.GradScaler(device.type, enabled=fp16 and device.type == "cuda")

    def step():
        with torch.autocast(device.type, dtype=dtype, enabled=fp16):
            out = model(**inputs)
        scaler.scale(out.loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        return out.loss.item()

    return step, None


def huggingface(config, batch, seq, device, fp16):
    from transformers import BertConfig, BertForPreTraining
    hf_config = BertConfig(vocab_size=VOCAB, hidden_size=config["hidden_size"],
                           num_hidden_layers=config["layers_num"], num_attention_heads=config["heads_num"],
                           intermediate_size=config["feedforward_size"], max_position_embeddings=512,
                           type_vocab_size=3)
    torch.manual_seed(0)
    model = BertForPreTraining(hf_config).to(device).train()
    src, seg, tgt, nsp = make_batch(batch, seq, device)
    labels = torch.where(tgt > 0, tgt, torch.full_like(tgt, -100))
    return hf_step(model, device, fp16, input_ids=src, token_type_ids=seg, attention_mask=(seg > 0).long(),
                   labels=labels, next_sentence_label=nsp)


def huggingface_seq2seq(config, batch, seq, device, fp16):
    import transformers
    name = "t5" if config.get("relative_position_embedding") else "bart"
    sizes = {k: v for k, v in (config.get("hf_sizes_for_benchmark") or SEQ2SEQ[name]).items() if k != "model_type"}
    prefix = {"t5": "T5", "bart": "Bart"}[name]
    torch.manual_seed(0)
    model = getattr(transformers, prefix + "ForConditionalGeneration")(
        getattr(transformers, prefix + "Config")(**sizes)).to(device).train()
    src = make_batch(batch, seq, device, vocab=sizes["vocab_size"])[0]
    labels = make_batch(batch, seq, device, seed=1, vocab=sizes["vocab_size"])[0]
    return hf_step(model, device, fp16, input_ids=src, decoder_input_ids=torch.roll(labels, 1, 1), labels=labels)


def huggingface_llama(config, batch, seq, device, fp16):
    from transformers import LlamaConfig, LlamaForCausalLM
    hf_config = LlamaConfig(vocab_size=LLAMA_VOCAB, hidden_size=config["hidden_size"],
                            intermediate_size=config["feedforward_size"], num_hidden_layers=config["layers_num"],
                            num_attention_heads=config["heads_num"], num_key_value_heads=config["local_kv_heads_num"],
                            max_position_embeddings=config["max_seq_length"], rms_norm_eps=config["layer_norm_eps"])
    torch.manual_seed(0)
    model = LlamaForCausalLM(hf_config).to(device).train()
    src = make_batch(batch, seq, device, vocab=LLAMA_VOCAB)[0]
    return hf_step(model, device, fp16, input_ids=src, labels=src)


class StepServer:
    """One side of the comparison in a process of its own, so that neither runs on a heap the other shaped.

    Ours keeps freed memory as pretrain.py does on CPU (uer/runtime/memory.py); HF runs with the allocator's
    defaults, as its users run it, unless keep_memory is set for it too. Calling it runs one training step
    there and returns the step's seconds."""

    def __init__(self, build, build_args, keep_memory, threads):
        context = mp.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child, build, build_args, keep_memory, threads),
                                       daemon=True)
        self.process.start()
        self.info = self.conn.recv()

    def __call__(self, steps):
        """Seconds of each of `steps` consecutive steps."""
        self.conn.send(steps)
        return self.conn.recv()

    def close(self):
        self.conn.send(0)
        self.process.join()


def serve(conn, build, build_args, keep_memory, threads):
    if threads:
        torch.set_num_threads(threads)
    if keep_memory:
        keep_freed_memory()
    step, info = build(*build_args)
    conn.send(info)
    while steps := conn.recv():
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        conn.send(times)


def median_step_times(sides, steps, turn=3):
    """Median seconds per step of each side, over `steps` counted steps taken in turns of `turn` steps whose
    first is not counted, so that drift hits all sides alike. The rounds go through every order of the sides:
    the side that ran first in a round, or after a given other side, was measured up to ~4% slower whichever it
    was (BERT-base with the two layer norms, order swapped)."""
    times = [[] for _ in sides]
    first = [side(1)[0] for side in sides]  # warm-up (and compiling)
    orders = list(itertools.permutations(range(len(sides))))
    rounds = 0
    while min(len(t) for t in times) < steps or rounds % len(orders):
        for i in orders[rounds % len(orders)]:
            times[i] += sides[i](turn)[1:]
        rounds += 1
    return [sorted(t)[len(t) // 2] for t in times], first


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6,
                        help="Counted steps per model and row, at least (the sides take turns of 3 steps, 2 "
                             "counted, until every order of them has run as often).")
    parser.add_argument("--models", default="base,tiny,lstm,gatedcnn", help=f"Rows, from {', '.join(CASES)}.")
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=None,
                        help="Batch size of every row (default: per model, 8 for BERT-base and 32 for BERT-tiny).")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default).")
    parser.add_argument("--compile", action="store_true", help="Add ours under torch.compile to every row.")
    parser.add_argument("--hf_keeps_freed_memory", action="store_true",
                        help="Give HF's process the allocator setting ours has on CPU (compares code alone).")
    args = parse_benchmark(parser, steps=1, seq_length=16, batch_size=2)  # and fp32 only
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    n, seconds = (256, 0.05) if args.smoke else (2048, 1.0)
    fp32_rate = matmul_rate(torch.float32, device, n, seconds)
    half = torch.float16 if device.type == "cuda" else torch.bfloat16
    fast_half = device.type == "cuda" or cpu_has_fast_bf16()
    half_rate = matmul_rate(half, device, n=min(n, 512) if not fast_half else n, seconds=seconds / 2)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"matrix products: fp32 {fp32_rate / 1e9:.0f} GFLOP/s, {str(half).split('.')[-1]} "
          f"{half_rate / 1e9:.0f} GFLOP/s" + ("" if fast_half else " (no native bf16 on this CPU)"))
    try:
        import transformers  # noqa: F401
        have_hf = True
    except ImportError:
        have_hf = False
        print("transformers is not installed: HF rows skipped (pip install transformers)")
    print("\n| model | layer norm | precision | batch | seq | ours tokens/s | HF tokens/s | ours / HF | ours MFU |")
    print("|---|---|---|---|---|---|---|---|---|")
    costs = []
    for name in args.models.split(","):
        title, config_file, batch, embedding, encoder, target = CASES[name]
        batch = args.batch_size or batch
        config = row_config(config_file, args.smoke)
        with_hf = have_hf and encoder in ("bert", "transformer")
        hf_side = huggingface_seq2seq if config.get("decoder") else \
            huggingface_llama if encoder == "transformer" else huggingface
        for fp16 in (False,) if args.smoke else (False, True):
            label = "fp32" if not fp16 else f"--fp16 ({str(half).split('.')[-1]})"
            if fp16 and not fast_half:
                print(f"| {title} | | {label} | {batch} | {args.seq_length} | n/a | n/a | | (no native bf16) |")
                continue
            keep = device.type == "cpu"
            own = "rms" if config.get("layernorm") in ("rms", "t5") else \
                "2020" if config.get("layer_norm_unbiased", True) else "standard"
            norms = [(own, config)] + [("fused", dict(config, layer_norm_unbiased=False))] * (encoder == "bert")
            norms += [(f"{own} --compile", dict(config, compile_for_benchmark=True))] * args.compile
            sides = [StepServer(ours, (c, batch, args.seq_length, device, fp16, embedding, encoder, target),
                                keep, args.threads) for _, c in norms]
            if with_hf:
                sides.append(StepServer(hf_side, (config, batch, args.seq_length, device, fp16),
                                        keep and args.hf_keeps_freed_memory, args.threads))
            times, first = median_step_times(sides, args.steps)
            hf = times[len(norms)] if with_hf else None
            non_emb = sides[0].info
            for side in sides:
                side.close()
            tok = batch * args.seq_length
            rate = fp32_rate if not fp16 else half_rate
            for (norm, _), t_ours in zip(norms, times):
                mfu = 6 * non_emb * tok / t_ours / rate
                hf_cell = f"{tok / hf:.0f}" if hf else "-"
                ratio = f"{hf / t_ours:.2f}x" if hf else "-"
                print(f"| {title} | {norm} | {label} | {batch} | {args.seq_length} | {tok / t_ours:.0f} | {hf_cell} | "
                      f"{ratio} | {mfu:.0%} |", flush=True)
            if args.compile:
                costs.append(f"{title} {label}: --compile {times[0] / times[len(norms) - 1]:.2f}x the eager tokens/s; "
                             f"first step {first[len(norms) - 1]:.0f} s compiled (compiling), {first[0]:.1f} s eager")
            if encoder == "bert":
                costs.append(f"{title} {label}: the 2020 layer norm takes {times[0] / times[1] - 1:+.1%} time per "
                             f"step vs the fused kernel")
    print("\n".join([""] + costs))


if __name__ == "__main__":
    main()
