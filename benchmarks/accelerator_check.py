#!/usr/bin/env python3
"""Every accelerator path in one command: run it on a CUDA machine (a few minutes).

    bash benchmarks/accelerator_check.sh [--work_dir DIR] [--skip_throughput] [--steps 200]

Checks, each as a user runs the scripts (subprocesses, shipped samples), with a PASS/FAIL line and its figures:
  1. pre-training BERT-tiny on one GPU, fp32 and --fp16 (fp16 autocast + GradScaler), 200 steps: the loss curves
     (every report) within 2% of each other;
  2. a pre-training run stopped by SIGTERM and resumed ends with weights bit-identical to an uninterrupted run;
  3. run_classifier.py on the GPU, then inference/run_classifier_infer.py on its model;
  4. fine-tuning on every visible GPU (DataParallel, as UER-py) under CUDA_VISIBLE_DEVICES (SKIP with one GPU);
  5. pretrain.py --world_size 1 --gpu_ranks 0 (one spawned process);
  6. torchrun --nproc_per_node 1 pretrain.py;
  7. throughput of BERT-base --fp16, batch 32, seq 128, ours beside HuggingFace's BertForPreTraining under
     torch.autocast (benchmarks/pretrain_speed.py), with the GPU's measured fp16 matrix-product rate and our MFU;
     goals: >= 1.3x HF and >= 50% MFU.
  8. a LLaMA-style decoder (models/llama_tiny_config.json: RMSNorm, SwiGLU, RoPE, grouped-query attention) pre-trained
     on the GPU with --fp16 (the loss falls), then generate.py continuing a text with its key/value cache there;
  9. throughput of the LLaMA-style 4 x 512 decoder, fp32 and --fp16, seq 256, beside HF's LlamaForCausalLM;
  10. with --data_dir (the folder of datasets/, corpora/, models/): benchmarks/pretrain_gain.py --recipe gpu
     (4 layers x 512, 20,000 pre-training steps of batch 64 on the GPU), its label-efficiency table with the
     gain at N = 500, 2,000 and 20,000 (tens of minutes);
  11. a tiny T5 (models/t5_tiny_config.json) pre-trained on the GPU with --fp16 on span corruption
     (preprocess.py --target t5; the loss falls), run_text2text.py from it, then run_text2text_infer.py with beam
     search: one generated text per input (run after check 8);
  12. throughput of T5-small and BART-base, fp32 and --fp16, beside T5/BartForConditionalGeneration;
  13. --fsdp over every visible GPU (nccl) against DDP, BERT-base 30 steps (benchmarks/fsdp_check.py): losses
     within 1e-3 relative, per-process bytes of parameters + gradients + optimizer state at most 0.55x (SKIP with
     one GPU);
  14. --gradient_checkpointing on BERT-base, batch 16 x 512 (benchmarks/gradient_checkpointing.py): the memory
     held for backward (torch.cuda.memory_allocated) at most 0.4x, gradients equal within 1e-6, peak memory;
  15. --compile: BERT-base and the LLaMA-style decoder, tokens/s eager and compiled, and the compile time;
  16. run_classifier.py under torchrun on every visible GPU (nccl), DDP, --fsdp, --fsdp --use_lora and --fsdp
     --use_adv pgd, each against one process with the whole batch (dropout 0): the same dev accuracy, the same
     saved keys, weights within 1e-3 (SKIP with one GPU);
  17. the later task scripts with --fp16 on every visible GPU (DataParallel with two or more: pairs and choices
     must stay whole): run_classifier_siamese.py, run_simcse.py, run_classifier_prompt.py (zero-shot and
     fine-tuned from check 1's model), run_regression.py, run_classifier_multi_label.py, each then its inference
     script: one output row per input.
Without CUDA it says so in one line and exits 0. Exit status: 1 if a check failed.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(ROOT, "models", "reviews_vocab.txt")
CONFIG = os.path.join(ROOT, "models", "bert_tiny_config.json")
DATA = os.path.join(ROOT, "datasets", "book_review")


def run(argv, env=None, timeout=900):
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    if proc.returncode:
        raise CheckFailed(f"{' '.join(argv[:3])} ... exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return proc


class CheckFailed(Exception):
    pass


def script(name):
    return [sys.executable, os.path.join(ROOT, name)]


class Checks:
    def __init__(self, work, steps):
        self.work, self.steps = work, steps
        self.dataset = os.path.join(work, "dataset.pt")
        run(script("preprocess.py") + ["--corpus_path", os.path.join(ROOT, "corpora", "book_review_bert.txt"),
                                       "--vocab_path", VOCAB, "--dataset_path", self.dataset, "--dup_factor", "1"])

    def pretrain(self, name, *extra, steps=None, launcher=None):
        out = os.path.join(self.work, name)
        argv = (launcher or script("pretrain.py")) + [
            "--dataset_path", self.dataset, "--vocab_path", VOCAB, "--config_path", CONFIG,
            "--output_model_path", out, "--total_steps", str(steps or self.steps), "--report_steps", "20",
            "--batch_size", "32", "--learning_rate", "1e-4", *extra]
        return out, run(argv)

    def losses(self, out):
        with open(out + ".metrics.jsonl") as f:
            return [r["loss"] for r in map(json.loads, f) if r["split"] == "train"]

    def fp16_curve(self):
        fp32, _ = self.pretrain("fp32.bin", "--gpu_ranks", "0")
        fp16, _ = self.pretrain("fp16.bin", "--gpu_ranks", "0", "--fp16")
        a, b = self.losses(fp32), self.losses(fp16)
        if len(a) != len(b) or not a:
            raise CheckFailed(f"{len(a)} fp32 and {len(b)} fp16 loss reports")
        worst = max(abs(x - y) / abs(x) for x, y in zip(a, b))
        detail = f"{len(a)} reports, largest relative gap {worst:.2%}; final loss {a[-1]:.4f} / {b[-1]:.4f}"
        return worst <= 0.02, detail

    def sigterm_resume(self):
        common = ["--gpu_ranks", "0", "--save_checkpoint_steps", "100", "--report_steps", "1"]
        argv = script("pretrain.py") + ["--dataset_path", self.dataset, "--vocab_path", VOCAB, "--config_path",
                                        CONFIG, "--total_steps", str(self.steps), "--batch_size", "32",
                                        "--learning_rate", "1e-4", *common]
        stopped = argv + ["--output_model_path", os.path.join(self.work, "stopped.bin")]
        proc = subprocess.Popen(stopped, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if "  30/" in line:
                proc.send_signal(signal.SIGTERM)
                break
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 128 + signal.SIGTERM:
            raise CheckFailed(f"SIGTERM: exit {proc.returncode}, expected {128 + signal.SIGTERM}: {err[-300:]}")
        run(stopped + ["--resume"])
        run(argv + ["--output_model_path", os.path.join(self.work, "whole.bin")])
        a = torch.load(os.path.join(self.work, f"stopped.bin-{self.steps}"), weights_only=True)
        b = torch.load(os.path.join(self.work, f"whole.bin-{self.steps}"), weights_only=True)
        differ = [k for k in a if not torch.equal(a[k], b[k])]
        stop_step = out.split("stopped at step ")[1].split()[0] if "stopped at step " in out else "?"
        return not differ, f"stopped at step {stop_step}, resumed to {self.steps}: " + (
            "all weights equal" if not differ else f"{len(differ)} tensors differ, e.g. {differ[0]}")

    def classifier(self, env=None, name="cls.bin"):
        out = os.path.join(self.work, name)
        proc = run(script("run_classifier.py") + [
            "--vocab_path", VOCAB, "--config_path", CONFIG, "--train_path", f"{DATA}/train.tsv",
            "--dev_path", f"{DATA}/dev.tsv", "--test_path", f"{DATA}/test.tsv", "--epochs_num", "1",
            "--batch_size", "32", "--learning_rate", "1e-4", "--output_model_path", out], env=env)
        return out, proc

    def classifier_and_inference(self):
        out, proc = self.classifier({"CUDA_VISIBLE_DEVICES": "0"})
        if "running on GPU" not in proc.stderr:
            raise CheckFailed("run_classifier.py did not report running on a GPU")
        prediction = os.path.join(self.work, "prediction.tsv")
        run(script("inference/run_classifier_infer.py") + [
            "--load_model_path", out, "--vocab_path", VOCAB, "--config_path", CONFIG, "--test_path",
            f"{DATA}/test_nolabel.tsv", "--prediction_path", prediction, "--labels_num", "2"],
            env={"CUDA_VISIBLE_DEVICES": "0"})
        with open(prediction) as f, open(f"{DATA}/test_nolabel.tsv") as g:
            rows, inputs = len(f.read().splitlines()), len(g.read().splitlines())
        accuracy = [line for line in proc.stdout.splitlines() if "acc" in line.lower()][-1:]
        return rows == inputs, f"{rows - 1} predictions for {inputs - 1} inputs; {' '.join(accuracy)}"

    def data_parallel(self):
        count = torch.cuda.device_count()
        if count < 2:
            return None, "one GPU visible: DataParallel needs two"
        visible = ",".join(map(str, range(count)))
        _, proc = self.classifier({"CUDA_VISIBLE_DEVICES": visible}, "dp.bin")
        said = [line for line in proc.stderr.splitlines() if line.startswith(("using", "running on"))]
        return f"using {count} GPUs" in said, f"CUDA_VISIBLE_DEVICES={visible}: {' '.join(said) or 'no device line'}"

    def gpu_ranks(self):
        out, _ = self.pretrain("ranks.bin", "--world_size", "1", "--gpu_ranks", "0", steps=40)
        return os.path.exists(out + "-40"), "40 steps, checkpoint written"

    def torchrun(self):
        launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1",
                    os.path.join(ROOT, "pretrain.py")]
        out, _ = self.pretrain("torchrun.bin", steps=40, launcher=launcher)
        return os.path.exists(out + "-40"), "40 steps, checkpoint written"

    def pretrain_gain(self, data_dir):
        proc = run(script("benchmarks/pretrain_gain.py") + ["--data_dir", data_dir, "--recipe", "gpu", "--work_dir",
                                                            os.path.join(self.work, "gain")], timeout=6 * 3600)
        rows = [line for line in proc.stdout.splitlines() if line.startswith("| douban")]
        print("\n".join(rows))
        if not rows:
            raise CheckFailed("no table in benchmarks/pretrain_gain.py's output")
        gains = {r.split("|")[2].strip() + " N=" + r.split("|")[3].strip(): r.split("|")[7].strip() for r in rows}
        return True, ", ".join(f"{k} {v}" for k, v in gains.items())

    def pretrain_on_gpu(self, config, vocab, target, seq_length, *extra):
        """preprocess.py --target TARGET on the sample corpus, then 100 --fp16 steps on GPU 0: (model path, losses)."""
        dataset, out = os.path.join(self.work, f"{target}.pt"), os.path.join(self.work, f"{target}.bin")
        run(script("preprocess.py") + ["--corpus_path", os.path.join(ROOT, "corpora", "book_review.txt"),
                                       "--vocab_path", vocab, "--dataset_path", dataset, "--target", target,
                                       "--seq_length", str(seq_length)])
        run(script("pretrain.py") + ["--dataset_path", dataset, "--vocab_path", vocab, "--config_path", config,
                                     "--output_model_path", out, "--total_steps", "100", "--report_steps", "20",
                                     "--save_checkpoint_steps", "100", "--batch_size", "32", "--learning_rate",
                                     "1e-3", "--gpu_ranks", "0", "--fp16", *extra])
        return out, self.losses(out)

    def llama(self):
        config = os.path.join(ROOT, "models", "llama_tiny_config.json")
        out, losses = self.pretrain_on_gpu(config, VOCAB, "lm", 128)
        beginning, continued = os.path.join(self.work, "beginning.txt"), os.path.join(self.work, "continued.txt")
        with open(beginning, "w", encoding="utf-8") as f:
            f.write("这本书\n")
        proc = run(script("scripts/generate.py") + ["--pretrained_model_path", out + "-100", "--vocab_path", VOCAB,
                                                    "--config_path", config, "--input_path", beginning,
                                                    "--output_path", continued, "--max_new_tokens", "40"])
        with open(continued, encoding="utf-8") as f:
            text = f.read().strip()
        ok = losses[-1] < losses[0] and len(text) > 3
        return ok, f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in 100 --fp16 steps; {proc.stdout.strip()}: {text[:40]}"

    def text2text(self):
        config, vocab = os.path.join(ROOT, "models", "t5_tiny_config.json"), os.path.join(ROOT, "models",
                                                                                          "reviews_t5_vocab.txt")
        out, losses = self.pretrain_on_gpu(config, vocab, "t5", 64, "--bias_correction")
        rows = {}
        for split in ("train", "dev", "test"):
            with open(f"{DATA}/{split}.tsv", encoding="utf-8") as f:
                lines = f.read().splitlines()[1:]
            rows[split] = os.path.join(self.work, f"{split}_text.tsv")
            with open(rows[split], "w", encoding="utf-8") as f:
                f.write("text_a\tlabel\n" + "".join(f"{t}\t{'好' if y == '1' else '差'}\n"
                                                    for y, t in (line.split("\t", 1) for line in lines)))
        tuned = os.path.join(self.work, "t2t.bin")
        proc = run(script("run_text2text.py") + [
            "--pretrained_model_path", out + "-100", "--vocab_path", vocab, "--config_path", config,
            "--train_path", rows["train"], "--dev_path", rows["dev"], "--epochs_num", "2", "--seq_length", "64",
            "--tgt_seq_length", "4", "--learning_rate", "1e-3", "--bias_correction", "--fp16",
            "--output_model_path", tuned], env={"CUDA_VISIBLE_DEVICES": "0"})
        generated = os.path.join(self.work, "generated.txt")
        run(script("inference/run_text2text_infer.py") + [
            "--load_model_path", tuned, "--vocab_path", vocab, "--config_path", config, "--test_path",
            f"{DATA}/test_nolabel.tsv", "--prediction_path", generated, "--seq_length", "64", "--beam_width", "2"],
            env={"CUDA_VISIBLE_DEVICES": "0"})
        with open(generated, encoding="utf-8") as f, open(f"{DATA}/test_nolabel.tsv", encoding="utf-8") as g:
            outputs, inputs = len(f.read().splitlines()), len(g.read().splitlines()) - 1
        dev = [line for line in proc.stdout.splitlines() if line.startswith("dev:")][-1:]
        ok = losses[-1] < losses[0] and outputs == inputs and "running on GPU" in proc.stderr
        return ok, f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in 100 --fp16 steps; {' '.join(dev)}; " \
                   f"{outputs} texts for {inputs} inputs"

    def throughput_llama(self):
        proc = run(script("benchmarks/pretrain_speed.py") + ["--device", "cuda", "--models", "llama",
                                                             "--seq_length", "256", "--steps", "10"])
        rows = [line for line in proc.stdout.splitlines() if line.startswith("| LLaMA")]
        print("\n".join(rows))
        if not rows:
            raise CheckFailed("no LLaMA row in benchmarks/pretrain_speed.py's output")
        ratios = [c.strip() for r in rows for c in [r.strip("|").split("|")[7]]]
        return True, "ours / HF " + ", ".join(f"{p} {r}" for p, r in zip(("fp32", "--fp16"), ratios)) + \
            " (goal 1.3x)"

    def throughput_seq2seq(self):
        proc = run(script("benchmarks/pretrain_speed.py") + ["--device", "cuda", "--models", "t5,bart",
                                                             "--steps", "10"])
        rows = [line for line in proc.stdout.splitlines() if line.startswith(("| T5-small", "| BART-base"))]
        print("\n".join(rows))
        if not rows:
            raise CheckFailed("no T5/BART row in benchmarks/pretrain_speed.py's output")
        cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
        return True, "ours / HF " + ", ".join(f"{c[0]} {c[2]} {c[7]}" for c in cells) + " (goal 1.3x)"

    def throughput(self):
        proc = run(script("benchmarks/pretrain_speed.py") + ["--device", "cuda", "--models", "base",
                                                             "--batch_size", "32", "--steps", "10"])
        rows = [line for line in proc.stdout.splitlines() if line.startswith("| BERT-base") or "matrix" in line]
        print("\n".join(rows))
        fp16 = [r for r in rows if "--fp16" in r and "| 2020 |" in r]
        if not fp16:
            raise CheckFailed("no --fp16 row in benchmarks/pretrain_speed.py's output")
        cells = [c.strip() for c in fp16[0].strip("|").split("|")]
        ratio, mfu = float(cells[7].rstrip("x")), float(cells[8].rstrip("%")) / 100
        return True, f"ours / HF {ratio:.2f}x (goal 1.3x: {'met' if ratio >= 1.3 else 'NOT met'}), MFU " \
                     f"{mfu:.0%} (goal 50%: {'met' if mfu >= 0.5 else 'NOT met'})"

    def fsdp(self):
        gpus = torch.cuda.device_count()
        if gpus < 2:
            return None, "one GPU visible: --fsdp shards over several processes, one per GPU"
        proc = run(script("benchmarks/fsdp_check.py") + ["--processes", str(gpus), "--batch_size", "8",
                                                         "--seq_length", "128"])
        lines = [line for line in proc.stdout.splitlines() if line.startswith(("loss:", "per-process", "| "))]
        print("\n".join(lines))
        worst = float(proc.stdout.split("over 30 steps ")[1].split()[0])
        ratio = float(proc.stdout.split("FSDP / DDP: ")[1].split("x")[0])
        return worst <= 1e-3 and ratio <= 0.55, f"{gpus} GPUs: losses within {worst:.1e} relative of DDP's, " \
                                                f"per-process bytes {ratio:.2f}x DDP's (goal 0.55x)"

    def finetune_torchrun(self):
        gpus = torch.cuda.device_count()
        if gpus < 2:
            return None, "one GPU visible: torchrun fine-tuning needs a GPU per process"

        def classifier(name, batch_size, launcher, *extra):
            out = os.path.join(self.work, name)
            proc = run(launcher + [
                "--vocab_path", VOCAB, "--config_path", CONFIG, "--dropout", "0.0", "--train_path",
                f"{DATA}/train.tsv", "--dev_path", f"{DATA}/dev.tsv", "--epochs_num", "1", "--batch_size",
                str(batch_size), "--learning_rate", "1e-4", "--output_model_path", out, *extra])
            dev = [line for line in proc.stdout.splitlines() if line.startswith("accuracy")]
            return torch.load(out, weights_only=True), dev
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(gpus),
                    os.path.join(ROOT, "run_classifier.py")]
        lora = ["--pretrained_model_path", self.pretrained_model(), "--use_lora"]
        adv = ["--use_adv", "--adv_type", "pgd"]
        details, ok, alone = [], True, {}
        for name, extra in (("DDP", []), ("--fsdp", ["--fsdp"]), ("--fsdp --use_lora", ["--fsdp", *lora]),
                            ("--fsdp --use_adv pgd", ["--fsdp", *adv])):
            task = tuple(x for x in extra if x != "--fsdp")
            if task not in alone:
                alone[task] = classifier(f"ft1_{len(alone)}.bin", 8 * gpus, script("run_classifier.py"), *task)
            one, one_dev = alone[task]
            weights, dev = classifier(f"ft_{len(details)}.bin", 8, torchrun, *extra)
            worst = max((weights[k].float() - one[k].float()).abs().max().item() for k in one)
            ok = ok and dev == one_dev and worst <= 1e-3 and weights.keys() == one.keys()
            details.append(f"{name}: dev {' '.join(dev)} (one process: {' '.join(one_dev)}), weights within "
                           f"{worst:.1e}")
        return ok, f"{gpus} processes; " + "; ".join(details)

    def pretrained_model(self):
        """Check 1's model, or one pre-trained here when check 1 did not run."""
        pretrained = os.path.join(self.work, f"fp32.bin-{self.steps}")
        if not os.path.exists(pretrained):
            pretrained = self.pretrain("tasks.bin", "--gpu_ranks", "0", steps=40)[0] + "-40"
        return pretrained

    def task_scripts(self):
        pretrained = self.pretrained_model()
        with open(f"{DATA}/train.tsv", encoding="utf-8") as f:
            rows = [line.split("\t") for line in f.read().splitlines()[1:] if line.strip()][:512]
        files = {"pairs": ("label\ttext_a\ttext_b", [f"{int(a[0] == b[0])}\t{a[1]}\t{b[1]}" for a, b in
                                                    zip(rows[0::2], rows[1::2])]),
                 "sts": ("label\ttext_a\ttext_b", [f"{float(a[0] == b[0])}\t{a[1]}\t{b[1]}" for a, b in
                                                  zip(rows[0::2], rows[1::2])]),
                 "sentences": ("text_a", [r[1] for r in rows]),
                 "scored": ("label\ttext_a", [f"{float(r[0])}\t{r[1]}" for r in rows])}
        paths = {}
        for name, (header, lines) in files.items():
            paths[name] = os.path.join(self.work, f"{name}.tsv")
            with open(paths[name], "w", encoding="utf-8") as f:
                f.write(header + "\n" + "\n".join(lines) + "\n")
        common = ["--vocab_path", VOCAB, "--config_path", CONFIG]
        tasks = [  # fine-tuning script, its data and flags, inference script, its flags
            ("run_classifier_siamese.py", paths["pairs"], ["--labels_num", "2"]),
            ("run_simcse.py", paths["sentences"], []),
            ("run_classifier_prompt.py", f"{DATA}/train.tsv", ["--prompt_id", "sentiment"]),
            ("run_regression.py", paths["scored"], []),
            ("run_classifier_multi_label.py", f"{DATA}/train.tsv", ["--labels_num", "2"])]
        details = []
        for name, train, infer_flags in tasks:
            out = os.path.join(self.work, name.replace(".py", ".bin"))
            dev = paths["sts"] if name == "run_simcse.py" else train
            task_flags = ["--prompt_id", "sentiment"] if "prompt" in name else []
            proc = run(script(name) + common + task_flags + [
                "--pretrained_model_path", pretrained, "--train_path", train, "--dev_path", dev, "--epochs_num", "1",
                "--batch_size", "32", "--learning_rate", "1e-4", "--fp16", "--output_model_path", out])
            test = paths["pairs"] if name in ("run_classifier_siamese.py", "run_simcse.py") else train
            prediction = os.path.join(self.work, name.replace(".py", ".tsv"))
            run(script("inference/" + name.replace(".py", "_infer.py")) + common + infer_flags + [
                "--load_model_path", out, "--test_path", test, "--prediction_path", prediction])
            with open(prediction) as f, open(test) as g:
                written, inputs = len(f.read().splitlines()), len(g.read().splitlines())
            if written != inputs:
                raise CheckFailed(f"{name}: {written - 1} predictions for {inputs - 1} inputs")
            device = [line for line in proc.stderr.splitlines() if line.startswith(("using", "running on"))]
            details.append(f"{name} ({device[0] if device else 'no device line'})")
        zero = run(script("run_classifier_prompt.py") + common + [
            "--prompt_id", "sentiment", "--pretrained_model_path", pretrained, "--dev_path", f"{DATA}/dev.tsv",
            "--output_model_path", os.path.join(self.work, "zero.bin")])
        accuracy = [line for line in zero.stdout.splitlines() if line.startswith("accuracy")]
        return True, "; ".join(details) + f"; zero-shot prompt {accuracy[-1] if accuracy else '?'}"

    def gradient_checkpointing(self):
        proc = run(script("benchmarks/gradient_checkpointing.py") + ["--device", "cuda"])
        lines = [line for line in proc.stdout.splitlines() if line.startswith(("| ", "recomputed"))]
        print("\n".join(lines))
        held = float(proc.stdout.split("held for backward ")[-1].split("x")[0])
        diff = float(proc.stdout.split("largest gradient difference ")[1].split()[0])
        return held <= 0.4 and diff <= 1e-6, lines[-1] + " (goals: 0.4x, 1e-6)"

    def compile(self):
        proc = run(script("benchmarks/pretrain_speed.py") + ["--device", "cuda", "--models", "base,llama",
                                                             "--compile", "--steps", "10"], timeout=1800)
        lines = [line for line in proc.stdout.splitlines() if "--compile" in line]
        print("\n".join(lines))
        if not lines:
            raise CheckFailed("no --compile row in benchmarks/pretrain_speed.py's output")
        return True, "; ".join(line for line in lines if not line.startswith("|"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work_dir", default=None, help="Where runs write (default: a temporary folder).")
    parser.add_argument("--steps", type=int, default=200, help="Pre-training steps of checks 1 and 2.")
    parser.add_argument("--skip_throughput", action="store_true",
                        help="Leave out checks 7, 9 and 12-15 (the pytest part does).")
    parser.add_argument("--data_dir", default=None, help="Run check 10, the GPU recipe of pretrain_gain.py, on it.")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("accelerator check: no CUDA device here (torch.cuda.is_available() is False); nothing to check")
        return 0
    print(f"accelerator check on {torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}, "
          f"torch {torch.__version__}, CUDA {torch.version.cuda}", flush=True)
    with tempfile.TemporaryDirectory(dir=args.work_dir) as work:
        checks = Checks(work, args.steps)
        plan = [("pre-training fp32 vs --fp16, loss within 2%", checks.fp16_curve),
                ("SIGTERM + --resume bit-identical on CUDA", checks.sigterm_resume),
                ("run_classifier.py + inference on the GPU", checks.classifier_and_inference),
                ("fine-tuning on every visible GPU (DataParallel)", checks.data_parallel),
                ("--world_size 1 --gpu_ranks 0", checks.gpu_ranks),
                ("torchrun --nproc_per_node 1", checks.torchrun)]
        plan.append(("LLaMA-style decoder: --fp16 pre-training and cached generation", checks.llama))
        plan.append(("tiny T5: --fp16 span-corruption pre-training, run_text2text.py, beam inference",
                     checks.text2text))
        if not args.skip_throughput:
            plan.append(("BERT-base --fp16 b32 s128 vs HF autocast", checks.throughput))
            plan.append(("LLaMA-style 4 x 512 vs HF LlamaForCausalLM", checks.throughput_llama))
            plan.append(("T5-small and BART-base vs HF's classes, fp32 and --fp16", checks.throughput_seq2seq))
            plan.append(("--fsdp on every visible GPU vs DDP: losses and per-process bytes", checks.fsdp))
            plan.append(("--gradient_checkpointing: BERT-base 16 x 512 peak memory", checks.gradient_checkpointing))
            plan.append(("--compile: BERT-base and LLaMA-style tokens/s, eager vs compiled", checks.compile))
        plan.append(("torchrun fine-tuning on every visible GPU (DDP, --fsdp) vs one process",
                     checks.finetune_torchrun))
        plan.append(("later task scripts with --fp16 on every visible GPU, then their inference", checks.task_scripts))
        if args.data_dir:
            plan.append(("pre-training gain, GPU recipe", lambda: checks.pretrain_gain(args.data_dir)))
        failed = 0
        for title, check in plan:
            try:
                ok, detail = check()
            except (CheckFailed, subprocess.TimeoutExpired, OSError, KeyError, IndexError, ValueError) as e:
                ok, detail = False, str(e)
            status = "SKIP" if ok is None else "PASS" if ok else "FAIL"
            failed += ok is False
            print(f"{status}  {title}: {detail}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
