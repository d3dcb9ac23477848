"""Past one device's memory: --gradient_checkpointing (recomputed layers), --fsdp (sharded training), --compile,
and fine-tuning in several processes under torchrun."""
import json
import os
import re

import numpy as np
import pytest
import torch

from conftest import ROOT, model_args, run_script, VOCAB, TINY
from test_reliability import free_port
from uer.layers.transformer import TransformerLayer
from uer.model_builder import build_model
from uer.runtime.recompute import recompute_layers_in_backward
from uer.opts import load_config
from uer.core.errors import UserInputError
from uer.data.pretrain_data import PretrainDataset


def tensor(array):
    return torch.from_numpy(np.ascontiguousarray(array))


def tiny_bert(target="bert", **extra):
    torch.manual_seed(0)
    return build_model(model_args(load_config(TINY), target=target, **dict(dict(dropout=0.1), **extra)), 676).train()


def gradients(model, batch, seed):
    src, tgt, seg = (torch.from_numpy(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a for a in batch)
    tgt = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tgt.items()}
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)  # the dropout masks
    parts = model(src, tgt, seg)
    sum(p["loss_sum"] / p["count"] for p in parts.values()).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_recomputed_layers_give_the_same_gradients_with_dropout(datasets, monkeypatch):
    batch = PretrainDataset(datasets["bert"]).batch(np.arange(8))
    plain = gradients(tiny_bert(), batch, seed=3)
    model = tiny_bert()
    recompute_layers_in_backward(model)
    calls, forward = [], TransformerLayer.forward
    monkeypatch.setattr(TransformerLayer, "forward", lambda *a, **k: calls.append(1) or forward(*a, **k))
    recomputed = gradients(model, batch, seed=3)
    assert len(calls) == 2 * model.encoder.layers_num  # each layer ran again in the backward pass
    assert plain.keys() == recomputed.keys()
    for name in plain:
        assert torch.allclose(plain[name], recomputed[name], atol=1e-6, rtol=0), name
    other_masks = gradients(tiny_bert(), batch, seed=4)  # dropout matters here: another seed, other gradients
    assert not torch.allclose(plain["encoder.transformer.0.self_attn.linear_layers.0.weight"],
                              other_masks["encoder.transformer.0.self_attn.linear_layers.0.weight"], atol=1e-6)


def test_recomputing_needs_transformer_layers():
    model = build_model(model_args(load_config(TINY), encoder="lstm", target="lm", embedding="word"), 676)
    with pytest.raises(UserInputError, match="--gradient_checkpointing recomputes transformer layers"):
        recompute_layers_in_backward(model)


def test_pretrain_with_gradient_checkpointing_trains(datasets, tmp_path):
    out = str(tmp_path / "gc.bin")
    proc = run_script("pretrain.py", "--dataset_path", datasets["bert"], "--vocab_path", VOCAB, "--output_model_path",
                      out, "--config_path", TINY, "--total_steps", "4", "--report_steps", "2", "--batch_size", "4",
                      "--target", "bert", "--gradient_checkpointing")
    assert "loss" in proc.stdout and (tmp_path / "gc.bin-4").exists()


def pretrain_two(dataset, out, *extra, check=True):
    return run_script("pretrain.py", "--dataset_path", dataset, "--vocab_path", VOCAB, "--output_model_path", out,
                      "--config_path", TINY, "--batch_size", "4", "--learning_rate", "1e-3", "--dropout", "0.0",
                      "--warmup", "0.0", "--report_steps", "1", "--world_size", "2", "--gpu_ranks", "0", "1",
                      "--backend", "gloo", "--master_ip", f"tcp://127.0.0.1:{free_port()}", *extra, check=check)


def test_fsdp_trains_as_ddp_and_writes_a_plain_checkpoint(datasets, tmp_path):
    common = ["--total_steps", "8", "--target", "bert", "--tie_weights"]
    ddp = pretrain_two(datasets["bert"], str(tmp_path / "ddp.bin"), *common)
    fsdp = pretrain_two(datasets["bert"], str(tmp_path / "fsdp.bin"), *common, "--fsdp")
    losses = [[float(v) for v in re.findall(r"loss_mlm\s+([0-9.]+)", p.stdout)] for p in (ddp, fsdp)]
    assert len(losses[0]) == 8 and losses[0][-1] < losses[0][0]
    assert np.allclose(losses[0], losses[1], rtol=1e-5, atol=0)
    one, two = (torch.load(tmp_path / f"{name}.bin-8", weights_only=True) for name in ("ddp", "fsdp"))
    assert one.keys() == two.keys()  # the tied table under both names, as every checkpoint has it
    for key in one:
        assert torch.allclose(one[key], two[key], atol=1e-5), key
    from uer.model_loader import load_model
    model = tiny_bert(tie_weights=True)
    load_model(model, str(tmp_path / "fsdp.bin-8"))  # loads without FSDP
    assert torch.equal(model.encoder.transformer[1].feed_forward.linear_1.weight,
                       two["encoder.transformer.1.feed_forward.linear_1.weight"])


def test_fsdp_processes_get_the_masters_weights_and_buffers(datasets, tmp_path):
    """Under --fsdp only the master builds the model; the others start on the meta device and get their shards
    and the buffers computed at build time (here ALiBi's slopes, which move every attention score) from it."""
    config = load_config(os.path.join(ROOT, "models", "llama_tiny_config.json"))
    config.update(rotary_position_embedding=False, alibi_position_embedding=True)
    (tmp_path / "alibi.json").write_text(json.dumps(config))
    common = ["--total_steps", "4", "--config_path", str(tmp_path / "alibi.json")]
    pretrain_two(datasets["lm"], str(tmp_path / "ddp.bin"), *common)
    pretrain_two(datasets["lm"], str(tmp_path / "fsdp.bin"), *common, "--fsdp")
    one, two = (torch.load(tmp_path / f"{name}.bin-4", weights_only=True) for name in ("ddp", "fsdp"))
    assert one.keys() == two.keys()
    for key in one:
        assert torch.allclose(one[key], two[key], atol=1e-5), key


def test_pretraining_lora_under_fsdp_equals_ddp(datasets, tmp_path):
    torch.manual_seed(0)
    body = {k: v for k, v in tiny_bert().state_dict().items() if not k.startswith("target.")}
    torch.save(body, tmp_path / "base.bin")
    lora = ["--total_steps", "4", "--target", "bert", "--use_lora", "--pretrained_model_path",
            str(tmp_path / "base.bin")]
    ddp = pretrain_two(datasets["bert"], str(tmp_path / "ddp.bin"), *lora)
    fsdp = pretrain_two(datasets["bert"], str(tmp_path / "fsdp.bin"), *lora, "--fsdp")
    losses = [[float(v) for v in re.findall(r"loss_mlm\s+([0-9.]+)", p.stdout)] for p in (ddp, fsdp)]
    assert len(losses[0]) == 4 and np.allclose(losses[0], losses[1], rtol=1e-5, atol=0)
    one, two = (torch.load(tmp_path / f"{name}.bin-4", weights_only=True) for name in ("ddp", "fsdp"))
    assert one.keys() == two.keys() and all(".lora_" in k or k.startswith("target.") for k in two)
    for key in one:
        assert torch.allclose(one[key], two[key], atol=1e-6), key


def test_fsdp_refusals(datasets, tmp_path):
    proc = pretrain_two(datasets["lm"], str(tmp_path / "lstm.bin"), "--total_steps", "2", "--encoder", "lstm",
                        "--target", "lm", "--embedding", "word", "--fsdp", check=False)
    assert proc.returncode != 0 and "--fsdp shards transformer layers, and the lstm encoder has none" in proc.stderr
    proc = run_script("pretrain.py", "--dataset_path", datasets["bert"], "--vocab_path", VOCAB, "--output_model_path",
                      str(tmp_path / "one.bin"), "--config_path", TINY, "--total_steps", "2", "--target", "bert",
                      "--fsdp", check=False)
    assert proc.returncode == 2 and "--fsdp shards the model over several processes" in proc.stderr


def test_compile_without_a_cpu_compiler_is_one_line(monkeypatch):
    from uer.runtime import compile as compiling
    monkeypatch.setattr(compiling.shutil, "which", lambda name: None)
    with pytest.raises(UserInputError, match="--compile on the CPU needs a C\\+\\+ compiler"):
        compiling.compile_model(tiny_bert(), "cpu")


def sgd_losses(model, batches):
    """The loss of each batch (src, tgt, seg) in turn, an SGD step after each."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    curve = []
    for src, tgt, seg in batches:
        parts = model(src, tgt, seg)
        loss = sum(p["loss_sum"] / p["count"] for p in parts.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        curve.append(loss.item())
    return curve


@pytest.mark.skipif(not __import__("shutil").which("g++"), reason="inductor's CPU backend needs a C++ compiler")
def test_compiled_model_trains_as_eager(datasets):
    from uer.runtime.compile import compile_model
    dataset = PretrainDataset(datasets["bert"])
    eager, compiled = tiny_bert(dropout=0.0), compile_model(tiny_bert(dropout=0.0), "cpu")
    keys = list(eager.state_dict())
    assert list(compiled.state_dict()) == keys  # compiled in place: checkpoints keep their keys
    batches = []
    for start in (0, 8):  # batches of different lengths (padded to their longest)
        src, tgt, seg = dataset.batch(np.arange(start, start + 8))
        batches.append((tensor(src), {k: tensor(v) for k, v in tgt.items()}, tensor(seg)))
    assert batches[0][0].shape[1] != batches[1][0].shape[1]
    assert np.allclose(sgd_losses(eager, batches), sgd_losses(compiled, batches), rtol=1e-4)


@pytest.mark.skipif(not __import__("shutil").which("g++"), reason="inductor's CPU backend needs a C++ compiler")
def test_compiled_llama_style_lm_trains_as_eager_with_the_loss_in_several_blocks(monkeypatch):
    """The vocabulary loss walks row blocks in place; under --compile it runs as written (more than one block
    once made torch.compile fail)."""
    from uer.layers import softmax_loss
    from uer.runtime.compile import compile_model
    monkeypatch.setattr(softmax_loss, "ROW_BLOCK_BYTES", 4096)  # 3 rows of 300 classes a block
    config = load_config(os.path.join(ROOT, "models", "llama_tiny_config.json"))
    generator = torch.Generator().manual_seed(1)
    sources = [torch.randint(1, 300, (4, length), generator=generator) for length in (16, 24)]
    batches = [(src, {"lm": torch.roll(src, -1, 1)}, torch.ones_like(src)) for src in sources]
    losses = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = build_model(model_args(config, encoder="transformer", target="lm"), 300).train()
        losses.append(sgd_losses(compile_model(model, "cpu") if compiled else model, batches))
    assert np.allclose(losses[0], losses[1], rtol=1e-5)


# -- fine-tuning under torchrun

CLS_DATA = os.path.join(ROOT, "datasets", "book_review")
NER_DATA = os.path.join(ROOT, "datasets", "ner_sample")


def torchrun(processes, script, *argv, check=True):
    return run_script("-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_port",
                      str(free_port()), script, *argv, "--backend", "gloo", check=check)


def first_lines(source, path, n):
    """The header and the first n examples of a TSV."""
    with open(source, encoding="utf-8") as f:
        path.write_text("".join(f.readlines()[:n + 1]), encoding="utf-8")
    return str(path)


def classifier_argv(folder, out, batch_size):
    """35 examples: with a global batch of 32 each epoch ends on a batch of three, shared 1 + 2 (so the shares
    must be weighted by their size)."""
    train = first_lines(os.path.join(CLS_DATA, "train.tsv"), folder / "train35.tsv", 35)
    return ["--vocab_path", VOCAB, "--config_path", TINY, "--encoder", "bert", "--dropout", "0.0",
            "--train_path", train, "--dev_path", os.path.join(CLS_DATA, "dev.tsv"), "--test_path",
            os.path.join(CLS_DATA, "test.tsv"), "--epochs_num", "2", "--batch_size", str(batch_size),
            "--learning_rate", "1e-3", "--warmup", "0.0", "--report_steps", "1", "--seq_length", "64",
            "--output_model_path", str(out)]


def report_losses(stdout):
    return [float(v) for v in re.findall(r"step \d+/\d+ \| loss ([0-9.]+)", stdout)]


def evaluations(stdout):
    return re.findall(r"accuracy [0-9.]+ \(\d+/\d+\)", stdout)


def assert_close_weights(a, b, atol=1e-5):
    a, b = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=atol, rtol=0), key


@pytest.fixture(scope="module")
def one_process_classifier(tmp_path_factory):
    folder = tmp_path_factory.mktemp("one")
    out = folder / "one.bin"
    return out, run_script("run_classifier.py", *classifier_argv(folder, out, 32)).stdout


@pytest.mark.parametrize("sharded", [[], ["--fsdp"]])
def test_torchrun_fine_tuning_equals_one_process_with_the_whole_batch(one_process_classifier, tmp_path, sharded):
    one, one_stdout = one_process_classifier
    out = tmp_path / "two.bin"
    proc = torchrun(2, "run_classifier.py", *classifier_argv(tmp_path, out, 16), *sharded)
    assert "fine-tuning in 2 processes" in proc.stderr
    assert np.allclose(report_losses(proc.stdout), report_losses(one_stdout), atol=2e-4)
    assert len(report_losses(proc.stdout)) == 4  # 2 epochs x 2 steps, reported by the master only
    assert evaluations(proc.stdout) == evaluations(one_stdout) and len(evaluations(one_stdout)) == 3
    assert_close_weights(out, one)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("two")) == \
        ["two.bin", "two.bin.metrics.jsonl"]  # one model; the resume state is gone with its shards


def test_lora_under_fsdp_trains_as_one_process_and_saves_only_the_adapters(tmp_path):
    """--use_lora --fsdp: the frozen weights are sharded too; the file holds the adapters and the head, as one
    process writes them (the best one reloaded for --test_path from it)."""
    torch.manual_seed(0)
    body = {k: v for k, v in tiny_bert().state_dict().items() if k.startswith(("embedding.", "encoder."))}
    torch.save(body, tmp_path / "pretrained.bin")
    lora = ["--pretrained_model_path", str(tmp_path / "pretrained.bin"), "--use_lora", "--lora_r", "4"]
    one = run_script("run_classifier.py", *classifier_argv(tmp_path, tmp_path / "one.bin", 32), *lora)
    two = torchrun(2, "run_classifier.py", *classifier_argv(tmp_path, tmp_path / "two.bin", 16), *lora, "--fsdp")
    assert np.allclose(report_losses(two.stdout), report_losses(one.stdout), atol=2e-4)
    assert evaluations(two.stdout) == evaluations(one.stdout) and len(evaluations(one.stdout)) == 3
    assert_close_weights(tmp_path / "two.bin", tmp_path / "one.bin")
    saved = torch.load(tmp_path / "two.bin", weights_only=True)
    assert all(".lora_" in k or k.startswith("output_layer_") for k in saved) and len(saved) == 2 * 8 + 4


def test_pgd_under_fsdp_pushes_the_whole_sharded_table_as_one_process(tmp_path):
    """The attack's norms and projection are over the whole word table, though each process holds a shard."""
    adv = ["--use_adv", "--adv_type", "pgd", "--pgd_epsilon", "1.0", "--pgd_alpha", "0.3"]
    one = run_script("run_classifier.py", *classifier_argv(tmp_path, tmp_path / "one.bin", 32), *adv)
    two = torchrun(2, "run_classifier.py", *classifier_argv(tmp_path, tmp_path / "two.bin", 16), *adv, "--fsdp")
    assert "adversarial training: pgd" in two.stderr
    assert np.allclose(report_losses(two.stdout), report_losses(one.stdout), atol=2e-4)
    assert_close_weights(tmp_path / "two.bin", tmp_path / "one.bin")


def test_cross_validation_under_fsdp_gives_one_process_features(tmp_path):
    argv = classifier_argv(tmp_path, tmp_path / "m.bin", 16)
    argv = argv[:argv.index("--dev_path")] + argv[argv.index("--epochs_num"):]
    argv[argv.index("--epochs_num") + 1] = "1"
    one = run_script("run_classifier_cv.py", *argv, "--folds_num", "2", "--output_model_path",
                     str(tmp_path / "one.bin"), "--train_features_path", str(tmp_path / "one.npy"))
    two = torchrun(2, "run_classifier_cv.py", *argv, "--batch_size", "8", "--folds_num", "2", "--output_model_path",
                   str(tmp_path / "two.bin"), "--train_features_path", str(tmp_path / "two.npy"), "--fsdp")
    assert re.findall(r"fold \d: accuracy .*", two.stdout) == re.findall(r"fold \d: accuracy .*", one.stdout)
    assert np.allclose(np.load(tmp_path / "two.npy"), np.load(tmp_path / "one.npy"), atol=1e-5)
    assert two.stderr.count("probabilities to") == 1  # the master alone writes them
    assert_close_weights(tmp_path / "two-fold_1.bin", tmp_path / "one-fold_1.bin")


def test_torchrun_tagging_weights_each_share_by_its_tokens(tmp_path):
    """NER's loss is a mean over tokens: shares of the batch with more tokens weigh more, as in one process. Each
    epoch ends on a batch of one example: two of the three processes have none (they run it with weight 0)."""
    config = tmp_path / "rnn.json"
    config.write_text(json.dumps({"emb_size": 32, "hidden_size": 32, "layers_num": 1, "dropout": 0.0}))
    train = first_lines(os.path.join(NER_DATA, "train.tsv"), tmp_path / "train.tsv", 37)

    def argv(out, batch_size):
        return ["--vocab_path", VOCAB, "--config_path", str(config), "--label2id_path",
                os.path.join(NER_DATA, "label2id.json"), "--embedding", "word", "--encoder", "lstm",
                "--bidirectional", "--train_path", train, "--dev_path", os.path.join(NER_DATA, "dev.tsv"),
                "--epochs_num", "2", "--batch_size", str(batch_size), "--learning_rate", "5e-3", "--report_steps",
                "1", "--output_model_path", str(tmp_path / out)]
    one = run_script("run_ner.py", *argv("one.bin", 12))
    three = torchrun(3, "run_ner.py", *argv("three.bin", 4))
    assert np.allclose(report_losses(three.stdout), report_losses(one.stdout), atol=2e-4)
    assert re.findall(r"dev: entity .*", three.stdout) == re.findall(r"dev: entity .*", one.stdout)
    assert_close_weights(tmp_path / "three.bin", tmp_path / "one.bin")


def test_torchrun_simcse_takes_its_negatives_from_the_whole_batch(tmp_path):
    """SimCSE's in-batch negatives are every process's second texts: 3 processes x 4 train as 1 x 12. 38 pairs:
    each epoch ends on a batch of two, shared 0 + 1 + 1."""
    from synthetic_tasks import topic_pairs, topic_positives, write_tsv
    config = tmp_path / "rnn.json"
    config.write_text(json.dumps({"emb_size": 32, "hidden_size": 32, "layers_num": 1, "dropout": 0.0}))
    train = write_tsv(str(tmp_path / "train.tsv"), "text_a\ttext_b", topic_positives(38, 0))
    dev = write_tsv(str(tmp_path / "dev.tsv"), "label\ttext_a\ttext_b", topic_pairs(40, 1, as_score=True))

    def argv(out, batch_size):
        return ["--vocab_path", VOCAB, "--config_path", str(config), "--embedding", "word", "--encoder", "lstm",
                "--pooling", "mean", "--train_path", train, "--dev_path", dev, "--epochs_num", "2", "--batch_size",
                str(batch_size), "--learning_rate", "3e-3", "--report_steps", "1", "--output_model_path",
                str(tmp_path / out)]
    one = run_script("run_simcse.py", *argv("one.bin", 12))
    three = torchrun(3, "run_simcse.py", *argv("three.bin", 4))
    assert len(report_losses(one.stdout)) == 8
    assert np.allclose(report_losses(three.stdout), report_losses(one.stdout), atol=2e-4)
    assert re.findall(r"dev: Spearman .*", three.stdout) == re.findall(r"dev: Spearman .*", one.stdout)
    assert_close_weights(tmp_path / "three.bin", tmp_path / "one.bin")


def test_fsdp_fine_tuning_needs_torchrun(tmp_path):
    proc = run_script("run_classifier.py", *classifier_argv(tmp_path, tmp_path / "m.bin", 16), "--fsdp",
                      check=False)
    assert proc.returncode == 2 and "start them with torchrun --nproc_per_node N" in proc.stderr
