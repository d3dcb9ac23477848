"""Encoder-decoder pre-training data (preprocess.py --target mt/t5/bart/gsg/prefixlm), pretrain.py on it, and
text-to-text fine-tuning and inference (run_text2text.py, inference/run_text2text_infer.py)."""
import json
import os
import re

import numpy as np
import pytest
import torch

from conftest import ROOT, load_script
from uer.core.errors import UserInputError

T5_TINY = os.path.join(ROOT, "models", "t5_tiny_config.json")
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{k}" for k in range(30)] + \
    [f"<extra_id_{k}>" for k in range(4)]


@pytest.fixture
def vocab(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return str(path)


def ids(text):
    return [WORDS.index(w) for w in text.split()]


def preprocess(tmp_path, vocab, target, corpus, *extra, seq_length=16):
    src = tmp_path / f"{target}.txt"
    src.write_text(corpus)
    out = str(tmp_path / f"{target}.pt")
    load_script("preprocess.py").main(["--corpus_path", str(src), "--vocab_path", vocab, "--target", target,
                                       "--dataset_path", out, "--seq_length", str(seq_length), "--tokenizer", "space",
                                       *extra])
    from uer.data.pretrain_data import PretrainDataset
    return PretrainDataset(out)


def rows(matrix):
    return [[int(v) for v in row if v] for row in matrix]


def test_mt_instances_are_the_source_and_the_shifted_target(tmp_path, vocab):
    data = preprocess(tmp_path, vocab, "mt", "w1 w2 w3\tw4 w5\nw6\tw7 w8 w9\n")
    order = [0, 1] if data.arrays["a_len"][0] == 3 else [1, 0]  # instances are stored shuffled
    src, tgt, seg = data.batch(order)
    assert rows(src) == [ids("[CLS] w1 w2 w3 [SEP]"), ids("[CLS] w6 [SEP]")]
    assert rows(tgt["tgt_in"]) == [ids("[CLS] w4 w5"), ids("[CLS] w7 w8 w9")]
    assert rows(tgt["lm"]) == [ids("w4 w5 [SEP]"), ids("w7 w8 w9 [SEP]")]
    assert seg.tolist() == [[1] * 5, [1, 1, 1, 0, 0]]
    assert tgt["tgt_seg"].tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]


@pytest.mark.parametrize("line, expected", [
    ("w1 w2\n", "mt.txt:2: expected 'source<TAB>target' (one tab), found 0 tabs"),
    ("w1\t \n", "mt.txt:2: empty target"),
    ("w1\tw2\tw3\n", "mt.txt:2: expected 'source<TAB>target' (one tab), found 2 tabs"),
])
def test_bad_parallel_lines_are_named(tmp_path, vocab, line, expected):
    with pytest.raises(UserInputError, match=re.escape(expected)):
        preprocess(tmp_path, vocab, "mt", "w1\tw2\n" + line)


def test_t5_sentinel_missing_from_the_vocabulary_is_named(tmp_path, vocab):
    with pytest.raises(UserInputError, match="no sentinel token <extra_id_4>"):
        preprocess(tmp_path, vocab, "t5", " ".join(f"w{k % 30}" for k in range(200)) + "\n", seq_length=102)


def test_t5_span_corruption_hides_spans_behind_sentinels(tmp_path, vocab):
    text = " ".join(f"w{k % 30}" for k in range(40))  # 40 tokens: round(15%) = 6 noise tokens in 2 spans
    data = preprocess(tmp_path, vocab, "t5", text + "\n", seq_length=42)
    src, tgt, _ = data.batch([0], epoch=0)
    source, target = rows(src)[0][1:-1], rows(tgt["lm"])[0][:-1]
    sentinels = ids("<extra_id_0> <extra_id_1>")
    assert [t for t in source if t in sentinels] == sentinels and target[0] == sentinels[0]
    assert len(source) == 40 - 6 + 2 and len(target) == 6 + 2
    cut = target.index(sentinels[1])
    spans = {sentinels[0]: target[1:cut], sentinels[1]: target[cut + 1:]}
    assert all(spans.values())
    assert [w for t in source for w in spans.get(t, [t])] == ids(text)  # each span goes back where it was
    assert source[0] not in sentinels  # the text starts with a kept stretch, as T5's
    draws = {tuple(rows(data.batch([0], epoch=e)[0])[0]) for e in range(4)}
    assert len(draws) > 1  # a new draw each epoch
    assert rows(data.batch([0], epoch=0)[0])[0] == rows(src)[0]  # and the same draw for the same epoch


def test_bart_permutes_sentences_and_infills_spans(tmp_path, vocab):
    doc = "w1 w2 w3\nw4 w5 w6\nw7 w8 w9\nw10 w11 w12\n"
    data = preprocess(tmp_path, vocab, "bart", doc, "--noise_density", "0.25")
    src, tgt, _ = data.batch([0])
    original = ids(doc.replace("\n", " "))
    assert rows(tgt["lm"])[0] == original + ids("[SEP]")
    source = rows(src)[0][1:-1]
    mask = WORDS.index("[MASK]")
    kept = [t for t in source if t != mask]
    assert len(kept) == len(original) - 3 and mask in source  # 25% of 12 tokens masked
    assert set(kept) <= set(original)
    # sentence permutation: over epochs the text is seen with its sentences in other orders
    starts = set()
    for epoch in range(8):
        noised = [t for t in rows(data.batch([0], epoch)[0])[0][1:-1] if t != mask]
        starts.add(noised[0])
    assert len(starts & set(ids("w1 w2 w4 w5 w7 w8 w10 w11"))) >= 2


def test_gsg_masks_whole_sentences_and_predicts_them(tmp_path, vocab):
    doc = "w1 w2\nw3 w4\nw5 w6\nw7 w8\n"
    data = preprocess(tmp_path, vocab, "gsg", doc, "--sentence_selection_strategy", "lead",
                      "--gap_sentences_ratio", "0.5")
    src, tgt, _ = data.batch([0])
    assert rows(src)[0] == ids("[CLS] [MASK] [MASK] w5 w6 w7 w8 [SEP]")
    assert rows(tgt["lm"])[0] == ids("w1 w2 w3 w4 [SEP]")
    # principal: the sentence sharing most words with the rest of the document
    data = preprocess(tmp_path, vocab, "gsg", "w1 w2\nw3 w9\nw5 w6\nw9 w3 w5\n", "--gap_sentences_ratio", "0.25")
    src, tgt, _ = data.batch([0])
    assert rows(tgt["lm"])[0] == ids("w9 w3 w5 [SEP]")


def test_prefixlm_scores_only_the_second_segment(tmp_path, vocab):
    data = preprocess(tmp_path, vocab, "prefixlm", "w1 w2\tw3 w4\n")
    src, tgt, seg = data.batch([0])
    assert rows(src)[0] == ids("[CLS] w1 w2 [SEP] w3 w4")
    assert seg.tolist() == [[1, 1, 1, 1, 2, 2]]
    assert tgt["lm"].tolist() == [[0, 0, 0] + ids("w3 w4 [SEP]")]


def test_flags_of_other_targets_are_refused(tmp_path, vocab):
    with pytest.raises(UserInputError, match="--noise_density applies to --target t5 and bart, not mt"):
        preprocess(tmp_path, vocab, "mt", "w1\tw2\n", "--noise_density", "0.2")
    with pytest.raises(UserInputError, match="--full_sentences packs documents of --target bilm, llm_pretrain, lm, mlm, t5, "
                                             "not bart"):
        preprocess(tmp_path, vocab, "bart", "w1 w2\n", "--full_sentences")


def test_pretrain_t5_loss_falls_and_refuses_the_wrong_model(tmp_path):
    corpus = os.path.join(ROOT, "corpora", "book_review.txt")
    vocab = os.path.join(ROOT, "models", "reviews_t5_vocab.txt")
    dataset = str(tmp_path / "t5.pt")
    load_script("preprocess.py").main(["--corpus_path", corpus, "--vocab_path", vocab, "--target", "t5",
                                       "--dataset_path", dataset, "--seq_length", "32"])
    metrics = tmp_path / "m.jsonl"
    base = ["--dataset_path", dataset, "--vocab_path", vocab, "--output_model_path", str(tmp_path / "t5.bin"),
            "--batch_size", "16", "--learning_rate", "1e-3"]
    load_script("pretrain.py").main(base + ["--config_path", T5_TINY, "--total_steps", "40", "--report_steps", "10",
                                            "--metrics_path", str(metrics)])
    losses = [json.loads(line)["loss"] for line in metrics.read_text().splitlines() if '"train"' in line]
    assert losses[-1] < losses[0] - 0.5
    with pytest.raises(UserInputError, match="trains an encoder-decoder model"):
        load_script("pretrain.py").main(base + ["--config_path", os.path.join(ROOT, "models", "llama_tiny_config.json"),
                                                "--target", "lm", "--total_steps", "1"])


def digits_task(path, n, seed):
    rng = np.random.default_rng(seed)
    lines = ["text_a\tlabel"]
    for _ in range(n):
        d = str(int(rng.integers(0, 10)))
        lines.append(f"{d}\t{d}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_run_text2text_learns_and_inference_writes_a_line_per_input(tmp_path):
    vocab = os.path.join(ROOT, "models", "reviews_vocab.txt")
    config = tmp_path / "c.json"
    config.write_text(json.dumps(dict(json.load(open(T5_TINY)), dropout=0.0, initializer="t5",
                                      lm_hidden_scale=0.125)))
    train, dev = digits_task(tmp_path / "train.tsv", 600, 0), digits_task(tmp_path / "dev.tsv", 50, 1)
    metrics, model = tmp_path / "m.jsonl", str(tmp_path / "model.bin")
    load_script("run_text2text.py").main([
        "--train_path", train, "--dev_path", dev, "--vocab_path", vocab, "--config_path", str(config),
        "--output_model_path", model, "--epochs_num", "3", "--batch_size", "16", "--learning_rate", "2e-3",
        "--bias_correction", "--seq_length", "8", "--metric", "bleu", "--metrics_path", str(metrics)])
    dev_figures = [json.loads(line) for line in metrics.read_text().splitlines() if '"dev"' in line]
    assert set(dev_figures[-1]) >= {"bleu", "exact_match"}
    assert max(f["exact_match"] for f in dev_figures) >= 0.9
    test = tmp_path / "test.tsv"
    test.write_text("text_a\n3\n7\n")
    out = tmp_path / "pred.txt"
    load_script("inference/run_text2text_infer.py").main([
        "--load_model_path", model, "--vocab_path", vocab, "--config_path", str(config), "--test_path", str(test),
        "--prediction_path", str(out), "--seq_length", "8", "--beam_width", "2"])
    assert out.read_text().splitlines() == ["3", "7"]


def test_empty_label_is_named(tmp_path):
    vocab = os.path.join(ROOT, "models", "reviews_vocab.txt")
    bad = tmp_path / "train.tsv"
    bad.write_text("text_a\tlabel\n1\t1\n2\t \n")
    with pytest.raises(UserInputError, match="train.tsv:3: empty label"):
        load_script("run_text2text.py").main(["--train_path", str(bad), "--dev_path", str(bad), "--vocab_path",
                                              vocab, "--config_path", T5_TINY])


def test_batched_greedy_equals_one_at_a_time():
    from argparse import Namespace
    from uer.generation.seq2seq import greedy_batch, sample_one
    from uer.model_builder import build_model
    from uer.opts import load_config, MODEL_DEFAULTS
    args = Namespace(**dict(MODEL_DEFAULTS, **load_config(T5_TINY), config_path=T5_TINY))
    args.dropout = 0.0
    args.factorized_embedding_parameterization = args.parameter_sharing = args.bidirectional = False
    torch.manual_seed(0)
    model = build_model(args, 50).eval()
    src = torch.tensor([[2, 7, 9, 11, 3], [2, 5, 3, 0, 0]])
    seg = (src > 0).long()
    decode = Namespace(max_new_tokens=6, top_k=1, top_p=1.0, temperature=1.0)
    with torch.no_grad():
        batched = greedy_batch(model, src, seg, 2, 3, 6)
        alone = [sample_one(model, src[i:i + 1, :int(seg[i].sum())], 2, 3, decode, None) for i in range(2)]
    assert batched == alone and all(len(b) == 6 for b in batched)  # random weights: no end token


def test_rouge_l_and_bleu_against_hand_computed_values():
    from uer.finetune.metrics import rouge_l, bleu
    # LCS of "a b c d e" and "a c e f" is "a c e": P 3/5, R 3/4, F1 2PR/(P+R) = 2/3
    assert rouge_l(["a b c d e".split()], ["a c e f".split()]) == pytest.approx(2 / 3)
    assert rouge_l([[1, 2], [3]], [[1, 2], [4]]) == pytest.approx(0.5)
    assert bleu([list("abcdefgh")], [list("abcdefgh")]) == pytest.approx(100.0)
    # one token of four wrong: n-gram precisions 3/4, 2/3, 1/2 and 0/1, the last smoothed (sacrebleu's default)
    import math
    smoothed = 1 / 2  # exp smoothing: the first zero count becomes 1 / 2
    expected = 100 * math.exp((math.log(3 / 4) + math.log(2 / 3) + math.log(1 / 2) + math.log(smoothed)) / 4)
    assert bleu([list("abcx")], [list("abcd")]) == pytest.approx(expected)
