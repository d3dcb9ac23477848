import os
import subprocess
import sys
from argparse import Namespace

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks", "data"))  # the synthetic task sets
VOCAB = os.path.join(ROOT, "models", "reviews_vocab.txt")
CORPUS = os.path.join(ROOT, "corpora", "book_review.txt")
CORPUS_BERT = os.path.join(ROOT, "corpora", "book_review_bert.txt")
CORPUS_CLS = os.path.join(ROOT, "corpora", "book_review_cls.txt")
TINY = os.path.join(ROOT, "tests", "fixtures", "tiny_config.json")
TINY_ALBERT = os.path.join(ROOT, "tests", "fixtures", "tiny_albert_config.json")


def model_args(config, encoder="bert", target="bert", **extra):
    """Model arguments as the scripts build them: defaults < config < extra; here the sizes that scripts take
    only from a config default to BERT-base's (models/bert_base_config.json)."""
    import json
    from uer.opts import MODEL_DEFAULTS, SHAPE_KEYS
    with open(os.path.join(ROOT, "models", "bert_base_config.json")) as f:
        base = json.load(f)
    args = Namespace(**MODEL_DEFAULTS, **{k: base[k] for k in SHAPE_KEYS})
    args.__dict__.update(dict(embedding="bert", encoder=encoder, target=target, labels_num=2, tie_weights=False,
                              factorized_embedding_parameterization=False, parameter_sharing=False,
                              bidirectional=False))
    args.__dict__.update(config)
    args.__dict__.update(extra)
    return args


def load_script(relative_path):
    """A script of the repository as a module, to call its main(argv) in this process."""
    import importlib.util
    path = os.path.join(ROOT, relative_path)
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def perturbed_hf_model(model_class, config, folder=None, noise=0.05, **save):
    """A transformers model of `config` made with seed 0, every weight moved by N(0, noise) (norms away from 1,
    biases away from 0, so that a mix-up shows), saved to `folder` when one is given."""
    import torch
    torch.manual_seed(0)
    model = model_class(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * noise)
    if folder is not None:
        model.save_pretrained(folder, **save)
    return model


def back_to_hf(script, folder, hf, uer_model=None, loader=None):
    """Run the UER -> HuggingFace `script` on folder/uer.bin (or `uer_model`) with folder/uer.json, load what it
    writes to folder/back (with `loader`, default hf's class) and check it holds hf's weights bit for bit."""
    import torch
    load_script(script).main(["--input_model_path", str(uer_model or folder / "uer.bin"), "--config_path",
                              str(folder / "uer.json"), "--output_model_path", str(folder / "back" / "model.safetensors")])
    back = (loader or type(hf)).from_pretrained(str(folder / "back")).eval()
    original, again = hf.state_dict(), back.state_dict()
    assert set(original) == set(again)
    for key in original:
        assert torch.equal(original[key], again[key]), key
    return back


def run_script(*argv, check=True, env=None):
    """Run a top-level script as a user would; returns CompletedProcess with text output."""
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, **(env or {})))
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def datasets(tmp_path_factory):
    """Small datasets for each target, built once."""
    out = tmp_path_factory.mktemp("datasets")
    made = {}

    def make(target, corpus, *extra, name=None):
        path = str(out / f"{name or target}.pt")
        run_script("preprocess.py", "--corpus_path", corpus, "--vocab_path", VOCAB, "--dataset_path", path,
                   "--target", target, "--seq_length", "64", *extra)
        made[name or target] = path

    make("bert", CORPUS_BERT)
    make("albert", CORPUS_BERT)
    make("mlm", CORPUS, "--dynamic_masking", name="mlm_dynamic")
    make("mlm", CORPUS, "--dup_factor", "2")
    make("lm", CORPUS)
    make("bilm", CORPUS)
    make("cls", CORPUS_CLS)
    return made
