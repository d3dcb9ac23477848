import os
import pickle

import numpy as np
import pytest
import torch

from conftest import run_script, VOCAB, CORPUS, CORPUS_BERT, CORPUS_CLS
from uer.core.errors import UserInputError
from uer.data.pretrain_data import PretrainDataset
from uer.text.tokenizers import BertTokenizer
from uer.text.vocab import Vocab


def preprocess(tmp_path, target, corpus, *extra, name="d.pt"):
    path = str(tmp_path / name)
    run_script("preprocess.py", "--corpus_path", corpus, "--vocab_path", VOCAB, "--dataset_path", path,
               "--target", target, "--seq_length", "64", *extra)
    return path


def all_batches(ds, size=256):
    for lo in range(0, len(ds), size):
        yield ds.batch(np.arange(lo, min(lo + size, len(ds))))


def test_nsp_and_sop_labels_are_balanced(datasets):
    for target in ("bert", "albert"):
        labels = np.asarray(PretrainDataset(datasets[target]).arrays["label"])
        assert 0.4 < labels.mean() < 0.6, (target, labels.mean())


def test_static_masks_cover_15_percent_and_skip_special_tokens(datasets):
    vocab = Vocab.load(VOCAB)
    special = [vocab.get(t) for t in ("[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]")]
    ds = PretrainDataset(datasets["bert"])
    chosen = candidates = 0
    for src, tgt, seg in all_batches(ds):
        chosen += (tgt["mlm"] > 0).sum()
        assert not np.isin(tgt["mlm"][tgt["mlm"] > 0], special).any()
        candidates += ((seg > 0) & ~np.isin(src, special)).sum() + (src == vocab.get("[MASK]")).sum()
    assert 0.13 < chosen / candidates < 0.17


def test_round_trip_reconstructs_corpus(tmp_path):
    path = preprocess(tmp_path, "lm", CORPUS)
    ds = PretrainDataset(path)
    vocab = Vocab.load(VOCAB)
    tok = BertTokenizer(vocab)
    with open(CORPUS, encoding="utf-8") as f:
        docs = [line.strip() for line in f if line.strip()]
    tokens = np.asarray(ds.arrays["tokens"])
    assert tokens.dtype == np.uint16
    cls_id, sep_id = vocab.get("[CLS]"), vocab.get("[SEP]")
    expected = [t for d in docs for t in [cls_id] + tok.encode(d) + [sep_id]]
    assert tokens.tolist() == expected
    src, tgt, seg = ds.batch(np.arange(20))
    assert (src[:, 0] == cls_id).any()
    for row in range(20):
        n = (seg[row] > 0).sum()
        assert (tgt["lm"][row, :n - 1] == src[row, 1:n]).all()


def test_dataset_is_not_a_pickle_and_records_metadata(datasets):
    with open(datasets["bert"], "rb") as f:
        head = f.read(8)
    assert head == b"UERDSET1"
    with pytest.raises(Exception):
        with open(datasets["bert"], "rb") as f:
            pickle.load(f)
    with pytest.raises(Exception):
        torch.load(datasets["bert"], weights_only=True)
    h = PretrainDataset(datasets["bert"]).header
    assert (h["target"], h["seq_length"], h["vocab_size"], h["static_masking"]) == ("bert", 64, 676, True)
    assert PretrainDataset(datasets["mlm_dynamic"]).header["dynamic_masking"]


def test_mismatched_target_and_vocab_are_refused(datasets, tmp_path):
    ds = PretrainDataset(datasets["bert"])
    with pytest.raises(UserInputError, match="made for --target bert.*--target mlm"):
        ds.check("mlm", Vocab.load(VOCAB))
    other = tmp_path / "vocab.txt"
    other.write_text(open(VOCAB, encoding="utf-8").read() + "extra\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="another vocabulary"):
        ds.check("bert", Vocab.load(str(other)))
    proc = run_script("pretrain.py", "--dataset_path", datasets["bert"], "--vocab_path", VOCAB,
                      "--output_model_path", str(tmp_path / "m.bin"), "--target", "mlm", check=False)
    assert proc.returncode == 2 and "made for --target bert" in proc.stderr and "Traceback" not in proc.stderr


def test_same_seed_same_dataset_whatever_processes_num(tmp_path):
    a = preprocess(tmp_path, "bert", CORPUS_BERT, "--processes_num", "1", "--docs_buffer_size", "500", name="a.pt")
    b = preprocess(tmp_path, "bert", CORPUS_BERT, "--processes_num", "2", "--docs_buffer_size", "500", name="b.pt")
    c = preprocess(tmp_path, "bert", CORPUS_BERT, "--seed", "8", "--docs_buffer_size", "500", name="c.pt")
    with open(a, "rb") as fa, open(b, "rb") as fb, open(c, "rb") as fc:
        da, db, dc = fa.read(), fb.read(), fc.read()
    assert da == db and da != dc


def test_dup_factor_copies_get_fresh_masks(datasets):
    ds = PretrainDataset(datasets["mlm"])
    starts = np.asarray(ds.arrays["a_start"])
    first = np.flatnonzero(starts == starts[0])
    assert len(first) == 2
    (_, t1, _), (_, t2, _) = ds.batch(first[:1]), ds.batch(first[1:])
    assert not np.array_equal(t1["mlm"] > 0, t2["mlm"] > 0)


def test_full_sentences_packs_across_documents(tmp_path):
    path = preprocess(tmp_path, "mlm", CORPUS, "--full_sentences", "--dup_factor", "1")
    ds = PretrainDataset(path)
    lengths = np.asarray(ds.arrays["a_len"])
    assert (lengths == 64).mean() > 0.99
    src, _, _ = ds.batch(np.arange(20))
    cls_id = Vocab.load(VOCAB).get("[CLS]")
    assert ((src == cls_id).sum(1) > 1).any(), "instances should span several documents"


def test_dynamic_masking_changes_with_epoch_not_with_world_size(datasets):
    ds = PretrainDataset(datasets["mlm_dynamic"])
    ds.check("mlm", Vocab.load(VOCAB))
    _, t0, _ = ds.batch(np.arange(8), epoch=0)
    _, t0b, _ = ds.batch(np.arange(4, 8), epoch=0)
    _, t1, _ = ds.batch(np.arange(8), epoch=1)
    assert np.array_equal(t0["mlm"][4:, :t0b["mlm"].shape[1]], t0b["mlm"])
    assert not np.array_equal(t0["mlm"], t1["mlm"])


def test_cls_dataset_has_labels(datasets):
    ds = PretrainDataset(datasets["cls"])
    assert ds.header["labels_num"] == 2
    src, tgt, seg = ds.batch(np.arange(4))
    with open(CORPUS_CLS, encoding="utf-8") as f:
        labels = [int(line.split("\t")[0]) for line in f]
    assert set(tgt["label"].tolist()) <= {0, 1} and sorted(np.asarray(ds.arrays["label"]).tolist()) == sorted(labels)


@pytest.mark.parametrize("content, message", [
    (b"good line\n\xff\xfe bad bytes\n", ":2: invalid UTF-8"),
    (b"\n\n  \n", "no text to pre-train on"),
])
def test_bad_corpus_gives_one_line_error(tmp_path, content, message):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(content)
    out = tmp_path / "d.pt"
    proc = run_script("preprocess.py", "--corpus_path", str(corpus), "--vocab_path", VOCAB, "--dataset_path",
                      str(out), "--target", "mlm", check=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and os.listdir(tmp_path) == ["c.txt"], "no partial output may be left behind"


def test_bad_cls_label_names_line(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("label\ttext_a\n1\tgood\nx\tbad\n", encoding="utf-8")
    proc = run_script("preprocess.py", "--corpus_path", str(corpus), "--vocab_path", VOCAB, "--dataset_path",
                      str(tmp_path / "d.pt"), "--target", "cls", check=False)
    assert proc.returncode == 2 and "c.txt:3:" in proc.stderr
