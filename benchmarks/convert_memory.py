#!/usr/bin/env python3
"""Peak memory of converting a LLaMA-style model, against its file size: a random model of TinyLlama-1.1B's
shape (bf16, sharded safetensors as HF writes them) converted HF -> UER and UER -> HF by the scripts, each in a
process of its own whose peak resident memory (ru_maxrss) is read.

    python3 benchmarks/convert_memory.py [--work_dir DIR] [--layers 22] [--keep]

Needs about 3 x 2.1 GB of disk in --work_dir (default: a temp folder).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from uer.opts import parse_benchmark  # noqa: E402
from uer.interop.hf_files import write_safetensors  # noqa: E402

SHAPE = {"hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
         "num_key_value_heads": 4, "vocab_size": 32000}
SMOKE_SHAPE = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
               "num_key_value_heads": 2, "vocab_size": 100}


def layer_tensors(i, h, inter, kv_rows):
    p = f"model.layers.{i}."
    shapes = {"self_attn.q_proj.weight": (h, h), "self_attn.k_proj.weight": (kv_rows, h),
              "self_attn.v_proj.weight": (kv_rows, h), "self_attn.o_proj.weight": (h, h),
              "mlp.gate_proj.weight": (inter, h), "mlp.up_proj.weight": (inter, h),
              "mlp.down_proj.weight": (h, inter), "input_layernorm.weight": (h,),
              "post_attention_layernorm.weight": (h,)}
    return [(p + name, torch.randn(shape, dtype=torch.bfloat16) * 0.02) for name, shape in shapes.items()]


def write_random_model(folder, shape):
    """A HF folder of random bf16 weights in shards of 4 layers, written shard by shard."""
    os.makedirs(folder, exist_ok=True)
    h, inter, layers = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    kv_rows = h // shape["num_attention_heads"] * shape["num_key_value_heads"]
    groups = [list(range(i, min(i + 4, layers))) for i in range(0, layers, 4)]
    weight_map, total = {}, 0
    for n, group in enumerate(groups):
        tensors = [t for i in group for t in layer_tensors(i, h, inter, kv_rows)]
        if n == 0:
            tensors.append(("model.embed_tokens.weight", torch.randn(shape["vocab_size"], h, dtype=torch.bfloat16)))
        if n == len(groups) - 1:
            tensors += [("model.norm.weight", torch.ones(h, dtype=torch.bfloat16)),
                        ("lm_head.weight", torch.randn(shape["vocab_size"], h, dtype=torch.bfloat16))]
        name = f"model-{n + 1:05d}-of-{len(groups):05d}.safetensors"
        write_safetensors(tensors, os.path.join(folder, name))
        weight_map.update({k: name for k, _ in tensors})
        total += sum(t.numel() * t.element_size() for _, t in tensors)
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f)
    config = dict(shape, architectures=["LlamaForCausalLM"], model_type="llama", max_position_embeddings=2048,
                  rms_norm_eps=1e-5, rope_theta=10000.0, hidden_act="silu", tie_word_embeddings=False)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work_dir", default=None)
    parser.add_argument("--layers", type=int, default=22, help="Layers of the random model (TinyLlama: 22).")
    parser.add_argument("--keep", action="store_true", help="Keep the files.")
    args = parse_benchmark(parser)
    work = args.work_dir or tempfile.mkdtemp(prefix="convert_memory_")
    shape = dict(SMOKE_SHAPE if args.smoke else SHAPE, num_hidden_layers=2 if args.smoke else args.layers)
    size = write_random_model(os.path.join(work, "hf"), shape) / 2 ** 20
    params = size * 2 ** 20 / 2
    print(f"random LLaMA-style model: {params / 1e9:.2f}B parameters, bf16, {size:.0f} MB in "
          f"{len(os.listdir(os.path.join(work, 'hf'))) - 2} shards")
    rows = []
    # each measurement in its own benchmark child, so that ru_maxrss of the children is that conversion's
    runs = [("HF -> UER (scripts/convert_llama_from_huggingface_to_uer.py)",
             ["scripts/convert_llama_from_huggingface_to_uer.py", "--input_model_path", os.path.join(work, "hf"),
              "--output_model_path", os.path.join(work, "uer.bin")]),
            ("UER -> HF (scripts/convert_llama_from_uer_to_huggingface.py)",
             ["scripts/convert_llama_from_uer_to_huggingface.py", "--input_model_path", os.path.join(work, "uer.bin"),
              "--config_path", os.path.join(work, "uer.json"), "--output_model_path",
              os.path.join(work, "back", "model.safetensors")])]
    for title, argv in runs:
        probe = [sys.executable, "-c", "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                 "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
                 sys.executable, *argv]
        start = time.perf_counter()
        out = subprocess.run(probe, cwd=ROOT, check=True, capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=ROOT))
        rss = int(out.stdout.split()[-1]) / 1024
        rows.append((title, rss, time.perf_counter() - start))
    print("\n| conversion | peak RSS MB | / file size | seconds |\n|---|---|---|---|")
    for title, rss, seconds in rows:
        print(f"| {title} | {rss:.0f} | {rss / size:.2f}x | {seconds:.1f} |")
    if not args.keep and not args.work_dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
