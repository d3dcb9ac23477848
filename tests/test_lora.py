"""--use_lora: only the adapters and the task head train and are saved; scripts/merge_lora.py folds them into a
full model that computes what the adapted one computed."""
import os
from argparse import Namespace

import pytest
import torch

from conftest import ROOT, VOCAB, TINY, model_args, run_script
from uer.opts import load_config

DATA = os.path.join(ROOT, "datasets", "book_review")


def classifier(**extra):
    from uer.models.classifier import Classifier
    args = model_args(load_config(TINY), encoder="bert", dropout=0.0, pooling="first", labels_num=2, **extra)
    return Classifier(args, 676), args


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory):
    """A "pre-trained" BERT (random weights, body only), then 2 epochs of run_classifier.py --use_lora on 200
    examples."""
    work = tmp_path_factory.mktemp("lora")
    torch.manual_seed(0)
    body = {k: v for k, v in classifier()[0].state_dict().items() if k.startswith(("embedding.", "encoder."))}
    torch.save(body, work / "pretrained.bin")
    with open(os.path.join(DATA, "train.tsv"), encoding="utf-8") as f:
        (work / "train.tsv").write_text("".join(f.readlines()[:201]), encoding="utf-8")
    proc = run_script("run_classifier.py", "--vocab_path", VOCAB, "--config_path", TINY, "--encoder", "bert",
                      "--pretrained_model_path", str(work / "pretrained.bin"), "--train_path", str(work / "train.tsv"),
                      "--dev_path", os.path.join(DATA, "dev.tsv"), "--epochs_num", "2", "--batch_size", "16",
                      "--learning_rate", "1e-3", "--output_model_path", str(work / "lora.bin"), "--use_lora",
                      "--lora_r", "4", "--lora_alpha", "8")
    return work, proc


def test_only_adapters_and_head_train_and_are_saved(lora_run):
    work, proc = lora_run
    saved = torch.load(work / "lora.bin", weights_only=True)
    assert saved and all(".lora_" in k or k.startswith("output_layer_") for k in saved)
    assert sum(k.endswith(".lora_a") for k in saved) == 2 * 4  # 2 layers x (query, key, value, output)
    assert "LoRA: " in proc.stderr and "weights train" in proc.stderr
    assert any(saved[k].abs().sum() > 0 for k in saved if k.endswith(".lora_b"))  # B left zero: nothing learnt
    assert os.path.getsize(work / "lora.bin") < 0.3 * os.path.getsize(work / "pretrained.bin")


def test_merged_model_equals_the_adapted_one(lora_run):
    from uer.layers.lora import adapt
    from uer.runtime.adapters import load_adapters
    work, _ = lora_run
    run_script("scripts/merge_lora.py", "--pretrained_model_path", str(work / "pretrained.bin"), "--lora_model_path",
               str(work / "lora.bin"), "--output_model_path", str(work / "merged.bin"), "--lora_alpha", "8")
    adapted, args = classifier()
    adapted.load_state_dict(torch.load(work / "pretrained.bin", weights_only=True), strict=False)
    adapt(adapted, Namespace(**vars(args), lora_r=4, lora_alpha=8, lora_dropout=0.0, lora_feed_forward=False),
          set(torch.load(work / "pretrained.bin", weights_only=True)))
    load_adapters(adapted, str(work / "lora.bin"))
    plain, _ = classifier()
    plain.load_state_dict(torch.load(work / "merged.bin", weights_only=True))  # strict: a full plain model
    src = torch.randint(5, 676, (3, 12))
    seg = torch.ones_like(src)
    with torch.no_grad():
        assert torch.allclose(adapted.eval()(src, seg), plain.eval()(src, seg), atol=1e-6)


def test_the_inference_names_merge_lora_for_an_adapters_file_and_merges_with_lora_base_model_path(lora_run):
    work, _ = lora_run
    argv = ["inference/run_classifier_infer.py", "--vocab_path", VOCAB, "--config_path", TINY, "--encoder", "bert",
            "--labels_num", "2", "--test_path", os.path.join(DATA, "test.tsv"), "--prediction_path",
            str(work / "pred.tsv")]
    proc = run_script(*argv, "--load_model_path", str(work / "lora.bin"), check=False)
    assert proc.returncode == 2 and "LoRA adapters" in proc.stderr and "scripts/merge_lora.py" in proc.stderr
    assert not (work / "pred.tsv").exists()
    run_script("scripts/merge_lora.py", "--pretrained_model_path", str(work / "pretrained.bin"), "--lora_model_path",
               str(work / "lora.bin"), "--output_model_path", str(work / "full.bin"), "--lora_alpha", "8")
    proc = run_script(*argv, "--load_model_path", str(work / "full.bin"), "--output_logits")
    assert "WARNING" not in proc.stderr  # every key of the classifier is in the merged file
    merged_rows = (work / "pred.tsv").read_text()
    with open(os.path.join(DATA, "test.tsv"), encoding="utf-8") as f:
        assert len(merged_rows.splitlines()) == len(f.readlines())  # header + a row each
    proc = run_script(*argv, "--load_model_path", str(work / "lora.bin"), "--lora_base_model_path",
                      str(work / "pretrained.bin"), "--lora_alpha", "8", "--output_logits")
    assert "WARNING" not in proc.stderr and (work / "pred.tsv").read_text() == merged_rows  # merged in memory


def test_lora_needs_a_pretrained_model(tmp_path):
    proc = run_script("run_classifier.py", "--vocab_path", VOCAB, "--config_path", TINY, "--encoder", "bert",
                      "--train_path", os.path.join(DATA, "train.tsv"), "--dev_path", os.path.join(DATA, "dev.tsv"),
                      "--output_model_path", str(tmp_path / "m.bin"), "--use_lora", check=False)
    assert proc.returncode == 2 and "--use_lora adapts a pre-trained model" in proc.stderr


def test_pretrain_with_lora_saves_adapters_and_target_and_resumes_from_them(datasets, tmp_path):
    from test_pretrain import pretrain
    common = ["--config_path", TINY, "--target", "bert", "--learning_rate", "1e-3", "--report_steps", "2"]
    pretrain(datasets["bert"], str(tmp_path / "base.bin"), *common, "--total_steps", "2")
    lora = [*common, "--use_lora", "--pretrained_model_path", str(tmp_path / "base.bin-2"), "--save_checkpoint_steps",
            "2"]
    pretrain(datasets["bert"], str(tmp_path / "a.bin"), *lora, "--total_steps", "4")
    saved = torch.load(tmp_path / "a.bin-4", weights_only=True)
    assert saved and all(".lora_" in k or k.startswith("target.") for k in saved)
    pretrain(datasets["bert"], str(tmp_path / "b.bin"), *lora, "--total_steps", "2")
    pretrain(datasets["bert"], str(tmp_path / "b.bin"), *lora, "--total_steps", "4", "--resume")
    resumed = torch.load(tmp_path / "b.bin-4", weights_only=True)  # the adapters were restored, not rebuilt
    assert resumed.keys() == saved.keys()
