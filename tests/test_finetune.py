"""Fine-tuning and inference: run_classifier.py, run_ner.py, inference/, the shared data layer and metrics."""
import csv
import os
import re

import numpy as np
import pytest
import torch

from conftest import ROOT, VOCAB, load_script, model_args, run_script
from uer.finetune.data import Examples, training_batches, evaluation_batches, read_tsv
from uer.finetune.metrics import classification_report
from uer.tasks.tagging import entities, entity_scores
from uer.core.errors import UserInputError

CLS_DATA = os.path.join(ROOT, "datasets", "book_review")
NER_DATA = os.path.join(ROOT, "datasets", "ner_sample")
LSTM = ["--embedding", "word", "--encoder", "lstm", "--pooling", "mean", "--learning_rate", "3e-3"]


@pytest.fixture(scope="module")
def small_rnn(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "small_rnn.json"
    path.write_text('{"emb_size": 48, "hidden_size": 48, "layers_num": 1, "dropout": 0.0}')
    return str(path)


def classifier_argv(config, out, *extra, train="train.tsv"):
    return ["--vocab_path", VOCAB, "--config_path", config, "--train_path", os.path.join(CLS_DATA, train),
            "--dev_path", os.path.join(CLS_DATA, "dev.tsv"), "--test_path", os.path.join(CLS_DATA, "test.tsv"),
            "--output_model_path", out, "--batch_size", "32", "--report_steps", "10", *LSTM, *extra]


def accuracies(text, split):
    return [float(a) for a in re.findall(rf"{split}:\n(?:.*\n)*?accuracy ([0-9.]+)", text)]


@pytest.fixture(scope="module")
def trained_classifier(small_rnn, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cls") / "classifier_model.bin")
    proc = run_script("run_classifier.py", *classifier_argv(small_rnn, out, "--epochs_num", "2"))
    return out, proc.stdout


def test_classifier_learns_and_keeps_the_best_dev_model(trained_classifier):
    out, stdout = trained_classifier
    dev, test = accuracies(stdout, "dev"), accuracies(stdout, "test")
    assert len(dev) == 2 and len(test) == 1
    assert max(dev) > 0.9 and test[0] > 0.9, stdout
    assert "confusion matrix" in stdout and "precision" in stdout
    state = torch.load(out, weights_only=True)
    assert state["output_layer_1.weight"].shape == (48, 48) and state["output_layer_2.weight"].shape == (2, 48)
    assert any(k.startswith("encoder.rnn.") for k in state) and not any(k.startswith("target.") for k in state)


def infer(model, config, test_path, out, *extra):
    return run_script("inference/run_classifier_infer.py", "--load_model_path", model, "--vocab_path", VOCAB,
                      "--config_path", config, "--test_path", test_path, "--prediction_path", out,
                      "--labels_num", "2", "--embedding", "word", "--encoder", "lstm", "--pooling", "mean", *extra)


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_classifier_inference_output_format(trained_classifier, small_rnn, tmp_path):
    model, _ = trained_classifier
    out = str(tmp_path / "prediction.tsv")
    infer(model, small_rnn, os.path.join(CLS_DATA, "test_nolabel.tsv"), out, "--output_logits", "--output_prob")
    rows = read_rows(out)
    assert rows[0] == ["label", "logits", "prob"] and len(rows) == 201
    gold = [int(r[0]) for r in read_rows(os.path.join(CLS_DATA, "test.tsv"))[1:]]
    correct = 0
    for row, g in zip(rows[1:], gold):
        logits, probs = [float(x) for x in row[1].split()], [float(x) for x in row[2].split()]
        assert int(row[0]) == int(np.argmax(logits)) and abs(sum(probs) - 1) < 1e-4
        correct += int(row[0]) == g
    assert correct / len(gold) > 0.9
    infer(model, small_rnn, os.path.join(CLS_DATA, "test_nolabel.tsv"), out)
    assert read_rows(out)[0] == ["label"]


def test_distillation_recipe(trained_classifier, small_rnn, tmp_path):
    """Teacher -> logits via inference -> student trained with --soft_targets --soft_alpha."""
    teacher, _ = trained_classifier
    train = read_rows(os.path.join(CLS_DATA, "train.tsv"))
    text = tmp_path / "text.tsv"
    text.write_text("text_a\n" + "".join(r[1] + "\n" for r in train[1:]), encoding="utf-8")
    label_logits = str(tmp_path / "label_logits.tsv")
    infer(teacher, small_rnn, str(text), label_logits, "--output_logits")
    predictions = read_rows(label_logits)
    combined = tmp_path / "text_label_logits.tsv"
    combined.write_text("text_a\tlabel\tlogits\n" + "".join(
        f"{r[1]}\t{p[0]}\t{p[1]}\n" for r, p in zip(train[1:], predictions[1:])), encoding="utf-8")
    out = str(tmp_path / "student.bin")
    argv = classifier_argv(small_rnn, out, "--epochs_num", "1", "--soft_targets", "--soft_alpha", "0.5")
    argv[argv.index("--train_path") + 1] = str(combined)
    proc = run_script("run_classifier.py", *argv)
    assert accuracies(proc.stdout, "test")[0] > 0.8 and os.path.exists(out)
    argv[argv.index("--train_path") + 1] = os.path.join(CLS_DATA, "train.tsv")
    proc = run_script("run_classifier.py", *argv, check=False)
    assert proc.returncode == 2 and "expected a header row naming the columns label, text_a, logits" in proc.stderr


def test_predictions_do_not_depend_on_batch_padding(trained_classifier, small_rnn):
    from uer.tasks.classification import read_classification, logits_of
    from uer.finetune.prediction import predict
    from uer.model_loader import load_model
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    args = model_args({"emb_size": 48, "hidden_size": 48, "layers_num": 1, "dropout": 0.0}, "lstm",
                      embedding="word", pooling="mean", labels_num=2, vocab_path=VOCAB)
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    examples = read_classification(os.path.join(CLS_DATA, "dev.tsv"), tokenizer, 128, 2)
    model = Classifier(args, len(vocab), vocab)
    load_model(model, trained_classifier[0])
    alone = torch.stack(predict(model, examples, 1, "cpu", logits_of))
    batched = torch.stack(predict(model, examples, 64, "cpu", logits_of))
    examples.pad_to = 128
    padded = torch.stack(predict(model, examples, 64, "cpu", logits_of))
    assert torch.allclose(alone, batched, atol=1e-5) and torch.allclose(alone, padded, atol=1e-5)


@pytest.mark.parametrize("content, message", [
    ("0\tgood book\n", "dev.tsv:1: expected a header row naming the columns label, text_a"),
    ("label\ttext_a\nx\tgood book\n", "dev.tsv:2: label 'x' is not an integer"),
    ("label\ttext_a\n1\tok\n\n5\tgood book\n", "dev.tsv:4: label 5 is outside 0..1"),
    ("label\ttext_a\n1\n", "dev.tsv:2: expected 2 tab-separated fields"),
    (b"label\ttext_a\n1\t\xff\n", "dev.tsv:2: not valid UTF-8"),
])
def test_bad_classification_files_give_one_line_errors(small_rnn, tmp_path, content, message):
    dev = tmp_path / "dev.tsv"
    dev.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    argv = classifier_argv(small_rnn, str(tmp_path / "m.bin"), "--epochs_num", "1")
    argv[argv.index("--dev_path") + 1] = str(dev)
    proc = run_script("run_classifier.py", *argv, check=False)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "m.bin").exists()


def test_ner_trains_and_infers(small_rnn, tmp_path):
    out = str(tmp_path / "ner_model.bin")
    common = ["--vocab_path", VOCAB, "--config_path", small_rnn, "--label2id_path",
              os.path.join(NER_DATA, "label2id.json"), "--embedding", "word", "--encoder", "lstm", "--bidirectional"]
    proc = run_script("run_ner.py", *common, "--train_path", os.path.join(NER_DATA, "train.tsv"),
                      "--dev_path", os.path.join(NER_DATA, "dev.tsv"), "--test_path",
                      os.path.join(NER_DATA, "test.tsv"), "--output_model_path", out, "--epochs_num", "6",
                      "--learning_rate", "5e-3", "--batch_size", "16")
    f1 = [float(v) for v in re.findall(r"test: entity precision [0-9.]+ recall [0-9.]+ f1 ([0-9.]+)", proc.stdout)]
    assert f1 and f1[0] > 0.9, proc.stdout
    assert torch.load(out, weights_only=True)["output_layer.weight"].shape == (7, 48)
    pred = str(tmp_path / "pred.tsv")
    run_script("inference/run_ner_infer.py", *common, "--load_model_path", out, "--test_path",
               os.path.join(NER_DATA, "test_nolabel.tsv"), "--prediction_path", pred)
    rows = read_rows(pred)
    inputs = read_rows(os.path.join(NER_DATA, "test_nolabel.tsv"))
    assert rows[0] == ["pred_label"] and len(rows) == len(inputs)
    assert all(len(r[0].split(" ")) == len(i[0].split(" ")) for r, i in zip(rows[1:], inputs[1:]))


def brute_force_crf(crf, emissions, tags, lengths):
    """Per sentence: (log-likelihood of `tags`, best path), by enumerating every label sequence."""
    import itertools
    labels = emissions.size(2)

    def score(b, path):
        s = crf.start_transitions[path[0]] + emissions[b, 0, path[0]] + crf.end_transitions[path[-1]]
        for t in range(1, len(path)):
            s = s + crf.transitions[path[t - 1], path[t]] + emissions[b, t, path[t]]
        return s
    out = []
    for b, n in enumerate(lengths):
        paths = list(itertools.product(range(labels), repeat=n))
        scores = torch.stack([score(b, p) for p in paths])
        out.append((score(b, tags[b, :n].tolist()) - torch.logsumexp(scores, 0), list(paths[int(scores.argmax())])))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crf_likelihood_gradients_and_viterbi_equal_enumeration(seed):
    from uer.layers.crf import CRF
    torch.manual_seed(seed)
    crf, length = CRF(3), 6
    emissions = torch.randn(5, length, 3, requires_grad=True)
    lengths = [6, 3, 1, 5, 2]
    mask = torch.arange(length)[None] < torch.tensor(lengths)[:, None]
    tags = torch.randint(0, 3, (5, length)) * mask
    ours = crf.log_likelihood(emissions, tags, mask)
    reference = brute_force_crf(crf, emissions, tags, lengths)
    assert torch.allclose(ours, torch.stack([r[0] for r in reference]), atol=1e-5)
    grads = torch.autograd.grad(ours.sum(), [emissions, crf.transitions])
    expected = torch.autograd.grad(sum(r[0] for r in reference), [emissions, crf.transitions])
    for g, e in zip(grads, expected):
        assert torch.allclose(g, e, atol=1e-5)
    decoded = crf.decode(emissions, mask)
    assert [decoded[b, :n].tolist() for b, n in enumerate(lengths)] == [r[1] for r in reference]


def test_ner_with_crf_target_trains_infers_and_names_a_missing_flag(small_rnn, tmp_path):
    out = str(tmp_path / "crf.bin")
    common = ["--vocab_path", VOCAB, "--config_path", small_rnn, "--label2id_path",
              os.path.join(NER_DATA, "label2id.json"), "--embedding", "word", "--encoder", "lstm", "--bidirectional"]
    proc = run_script("run_ner.py", *common, "--crf_target", "--train_path", os.path.join(NER_DATA, "train.tsv"),
                      "--dev_path", os.path.join(NER_DATA, "dev.tsv"), "--test_path",
                      os.path.join(NER_DATA, "test.tsv"), "--output_model_path", out, "--epochs_num", "6",
                      "--learning_rate", "5e-3", "--batch_size", "16")
    f1 = [float(v) for v in re.findall(r"test: entity precision [0-9.]+ recall [0-9.]+ f1 ([0-9.]+)", proc.stdout)]
    assert f1 and f1[0] > 0.9, proc.stdout
    state = torch.load(out, weights_only=True)
    assert state["crf.transitions"].shape == (7, 7) and state["crf.start_transitions"].shape == (7,)
    pred, infer = str(tmp_path / "pred.tsv"), ["inference/run_ner_infer.py", *common, "--load_model_path", out,
                                               "--test_path", os.path.join(NER_DATA, "test_nolabel.tsv")]
    run_script(*infer, "--crf_target", "--prediction_path", pred)
    assert len(read_rows(pred)) == len(read_rows(os.path.join(NER_DATA, "test_nolabel.tsv")))
    missing = run_script(*infer, "--prediction_path", str(tmp_path / "other.tsv"), check=False)
    assert missing.returncode == 2 and "was fine-tuned with --crf_target; add --crf_target" in missing.stderr


def test_ner_tag_count_mismatch_names_the_line(small_rnn, tmp_path):
    bad = tmp_path / "train.tsv"
    bad.write_text("text_a\tlabel\n我 在 北 京\tO O B-LOC\n", encoding="utf-8")
    proc = run_script("run_ner.py", "--vocab_path", VOCAB, "--config_path", small_rnn, "--label2id_path",
                      os.path.join(NER_DATA, "label2id.json"), "--train_path", str(bad), "--dev_path", str(bad),
                      "--embedding", "word", "--encoder", "lstm", check=False)
    assert proc.returncode == 2 and "train.tsv:2: 4 tokens but 3 tags" in proc.stderr


# -- metrics on hand-made cases

def test_classification_report_counts():
    accuracy, text = classification_report([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], 3)
    assert accuracy == pytest.approx(4 / 6)
    assert "     1      0      0\n       0      1      1\n       1      0      2" in text
    assert "    2     0.6667  0.6667  0.6667" in text and "    0     1.0000  0.5000  0.6667" in text


def test_entities_follow_bio_boundaries():
    assert entities(["B-PER", "I-PER", "O", "B-LOC"]) == {("PER", 0, 1), ("LOC", 3, 3)}
    assert entities(["B-PER", "B-PER", "I-PER"]) == {("PER", 0, 0), ("PER", 1, 2)}
    assert entities(["I-LOC", "I-LOC", "O"]) == {("LOC", 0, 1)}, "I- without B- starts an entity (conlleval)"
    assert entities(["B-PER", "I-LOC"]) == {("PER", 0, 0), ("LOC", 1, 1)}, "a type change ends the entity"
    assert entities(["O", "O"]) == set()


def test_entity_scores_need_type_and_both_boundaries():
    gold = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]]
    assert entity_scores(gold, gold)[:3] == (1.0, 1.0, 1.0)
    pred = [["B-PER", "O", "O", "B-ORG", "I-ORG"]]  # PER too short, LOC typed as ORG
    assert entity_scores(pred, gold)[:3] == (0.0, 0.0, 0.0)
    pred = [["B-PER", "I-PER", "O", "O", "O"]]
    p, r, f1, correct, predicted, total = entity_scores(pred, gold)
    assert (p, r, correct, predicted, total) == (1.0, 0.5, 1, 1, 2) and f1 == pytest.approx(2 / 3)
    assert entity_scores([["O"]], [["O"]])[:3] == (0.0, 0.0, 0.0)


# -- the batching layer

def test_batches_pad_to_their_longest_and_buckets_cover_every_example():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 120, size=1000)
    examples = Examples([list(range(1, n + 1)) for n in lengths], [min(n, 5) for n in lengths])
    src, seg = examples.batch(np.array([3, 7]), "cpu")
    assert src.shape[1] == max(lengths[3], lengths[7])
    assert (seg[0, :5] == 1).all() and (seg[0, 5:lengths[3]] == 2).all() and (seg[0, lengths[3]:] == 0).all()
    batches = training_batches(lengths, 32, rng)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    padded = sum(len(b) * lengths[b].max() for b in batches)
    assert padded < 1.1 * lengths.sum() < 0.6 * 1000 * 120, "bucketing keeps padding low"
    order = np.concatenate(evaluation_batches(lengths, 50))
    assert (np.diff(lengths[order]) >= 0).all()


def test_read_tsv_skips_empty_lines_and_keeps_line_numbers(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("text_a\tlabel\nab\t1\n\ncd\t0\n", encoding="utf-8")
    columns = read_tsv(str(path), ["label", "text_a"])
    assert columns == {"label": ["1", "0"], "text_a": ["ab", "cd"], "line": [2, 4]}
    with pytest.raises(UserInputError, match="no data rows"):
        path.write_text("label\ttext_a\n", encoding="utf-8")
        read_tsv(str(path), ["label"])


def test_pairs_are_cls_a_sep_b_sep_with_two_segments():
    from uer.finetune.data import encode_pairs
    from uer.text.tokenizers import load_vocab_and_tokenizer
    from argparse import Namespace
    vocab, tokenizer = load_vocab_and_tokenizer(Namespace(vocab_path=VOCAB, tokenizer="bert"))
    sequences, a_lens = encode_pairs(tokenizer, ["书很好", "书"], ["不好", "很好很好很好"], seq_length=8)
    cls, sep = vocab.get("[CLS]"), vocab.get("[SEP]")
    assert sequences[0] == [cls] + tokenizer.encode("书很好") + [sep] + tokenizer.encode("不好") + [sep]
    assert a_lens == [5, 3] and len(sequences[1]) == 8, "cut to seq_length from the end"
    src, seg = Examples(sequences, a_lens).batch(np.array([0, 1]), "cpu")
    assert seg[0].tolist() == [1, 1, 1, 1, 1, 2, 2, 2] and seg[1].tolist() == [1, 1, 1, 2, 2, 2, 2, 2]


def test_multitask_classifier(small_rnn, tmp_path):
    second = tmp_path / "has_english"
    second.mkdir()
    for split in ("train", "dev"):
        rows = read_rows(os.path.join(CLS_DATA, f"{split}.tsv"))[1:]
        (second / f"{split}.tsv").write_text("label\ttext_a\n" + "".join(
            f"{int(any(c.isascii() and c.isalpha() for c in r[1]))}\t{r[1]}\n" for r in rows), encoding="utf-8")
    out = str(tmp_path / "mt.bin")
    proc = run_script("run_mt_classifier.py", "--vocab_path", VOCAB, "--config_path", small_rnn,
                      "--dataset_path_list", CLS_DATA, str(second), "--output_model_path", out,
                      "--epochs_num", "2", "--batch_size", "32", *LSTM)
    means = [float(v) for v in re.findall(r"dev: mean accuracy over 2 tasks ([0-9.]+)", proc.stdout)]
    assert len(means) == 2 and max(means) > 0.75, proc.stdout  # task 1 ~1.0; task 2 learns slower
    state = torch.load(out, weights_only=True)
    assert state["output_layers_2.0.weight"].shape == (2, 48) and "output_layers_1.1.weight" in state


# -- reading comprehension

CMRC_DATA = os.path.join(ROOT, "datasets", "cmrc_sample")


def test_cmrc_metric_matches_the_official_definition():
    from uer.tasks.reading import exact_match, f1_score, segments, longest_common_substring
    assert segments("北京，China Daily!") == ["北", "京", "china", "daily", "!"]
    assert exact_match(["北京。"], "北京") == 1.0 and exact_match(["北京"], "南京") == 0.0
    assert f1_score(["北京大学"], "北京大学") == 1.0
    # longest common *substring* (the official find_lcs): "北京" of 4 gold and 3 predicted characters
    assert f1_score(["北京大学"], "北京市") == pytest.approx(2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4))
    assert f1_score(["北京大学", "北大"], "北大") == 1.0, "best over the gold answers"
    assert longest_common_substring(list("abcxbc"), list("xbcq")) == 3
    assert f1_score(["北京"], "") == 0.0


def test_windows_cover_long_contexts_and_label_the_answer():
    from uer.tasks.reading import read_squad, build_windows
    from uer.text.vocab import Vocab
    vocab = Vocab.load(VOCAB)
    questions = read_squad(os.path.join(CMRC_DATA, "dev.json"))[:6]
    examples, offsets = build_windows(questions, vocab, seq_length=48, doc_stride=16)
    owner = examples.fields["question"]
    assert (np.bincount(owner) > 1).all(), "contexts longer than a window get several"
    assert (examples.length <= 48).all()
    for w in range(len(examples)):
        q = questions[owner[w]]
        s, e = examples.fields["start"][w], examples.fields["end"][w]
        if s == 0:
            continue
        lo = examples.fields["window"][w] + s - examples.a_len[w]
        hi = examples.fields["window"][w] + e - examples.a_len[w]
        assert q["context"][offsets[owner[w]][lo]:offsets[owner[w]][hi] + 1] == q["answers"][0]
    labelled = {owner[w] for w in range(len(examples)) if examples.fields["start"][w] > 0}
    assert labelled == set(range(6)), "every answer lies inside some window"


CMRC_EPOCHS = 8


def test_cmrc_trains_and_infers(tmp_path, capsys):
    out = str(tmp_path / "cmrc_model.bin")
    config = tmp_path / "tiny.json"
    config.write_text('{"emb_size": 64, "hidden_size": 64, "feedforward_size": 128, "heads_num": 4, '
                      '"layers_num": 2, "dropout": 0.0}')
    common = ["--vocab_path", VOCAB, "--config_path", str(config), "--seq_length", "96", "--doc_stride", "48",
              "--encoder", "bert"]
    load_script("run_cmrc.py").main([*common, "--train_path", os.path.join(CMRC_DATA, "train.json"),
                                     "--dev_path", os.path.join(CMRC_DATA, "dev.json"), "--output_model_path", out,
                                     "--epochs_num", str(CMRC_EPOCHS), "--batch_size", "16", "--learning_rate",
                                     "5e-4", "--warmup", "0.3"])
    stdout = capsys.readouterr().out
    from uer.tasks.reading import read_squad
    questions = len(read_squad(os.path.join(CMRC_DATA, "train.json")))
    windows = int(re.search(rf"^{questions} training questions \((\d+) windows: ", stdout, re.M).group(1))
    assert windows > questions  # the sample's contexts are longer than one window
    scores = [tuple(map(float, m)) for m in re.findall(r"dev: EM ([0-9.]+) F1 ([0-9.]+)", stdout)]
    assert len(scores) == CMRC_EPOCHS and max(em for em, _ in scores) > 90, stdout
    pred = str(tmp_path / "prediction.json")
    load_script("inference/run_cmrc_infer.py").main([*common, "--load_model_path", out, "--test_path",
                                                     os.path.join(CMRC_DATA, "dev.json"), "--prediction_path", pred])
    import json
    answers = json.load(open(pred, encoding="utf-8"))
    questions = read_squad(os.path.join(CMRC_DATA, "dev.json"))
    assert set(answers) == {q["id"] for q in questions}
    assert all(a in q["context"] for q, a in zip(questions, (answers[q["id"]] for q in questions)))


# -- DBQA and C3

def test_ranking_scores_hand_made():
    from uer.finetune.metrics import ranking_scores
    groups = ["a", "a", "a", "b", "b", "c", "c"]
    scores = [0.9, 0.5, 0.7, 0.2, 0.8, 0.4, 0.3]
    relevant = [0, 1, 1, 1, 0, 0, 0]   # a: ranks 0.9(x) 0.7(v) 0.5(v); b: 0.8(x) 0.2(v); c: no answer
    mrr, map_score, used = ranking_scores(groups, scores, relevant)
    assert used == 2, "a question without a correct candidate is left out"
    assert mrr == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert map_score == pytest.approx(((1 / 2 + 2 / 3) / 2 + 1 / 2) / 2)
    assert ranking_scores(["a", "a"], [0.5, 0.5], [0, 1])[0] == 0.5, "ties keep input order"


def test_dbqa_trains_and_reports_mrr_and_map(small_rnn, tmp_path):
    data = os.path.join(ROOT, "datasets", "dbqa_sample")
    proc = run_script("run_dbqa.py", "--vocab_path", VOCAB, "--config_path", small_rnn, "--train_path",
                      os.path.join(data, "train.tsv"), "--dev_path", os.path.join(data, "dev.tsv"), "--test_path",
                      os.path.join(data, "test.tsv"), "--output_model_path", str(tmp_path / "dbqa.bin"),
                      "--epochs_num", "2", "--batch_size", "32", "--bidirectional", *LSTM)
    mrr = [float(v) for v in re.findall(r"test: MRR ([0-9.]+) MAP", proc.stdout)]
    assert mrr and mrr[0] > 0.9, proc.stdout
    assert "output_layer_2.weight" in torch.load(str(tmp_path / "dbqa.bin"), weights_only=True)


C3_EPOCHS = 8


def test_c3_trains_and_infers(tmp_path, capsys):
    data = os.path.join(ROOT, "datasets", "c3_sample")
    config = tmp_path / "tiny.json"
    config.write_text('{"emb_size": 64, "hidden_size": 64, "feedforward_size": 128, "heads_num": 4, '
                      '"layers_num": 2, "dropout": 0.0}')
    out = str(tmp_path / "c3.bin")
    common = ["--vocab_path", VOCAB, "--config_path", str(config), "--seq_length", "64", "--encoder", "bert"]
    load_script("run_c3.py").main([*common, "--train_path", os.path.join(data, "train.json"), "--dev_path",
                                   os.path.join(data, "dev.json"), "--output_model_path", out, "--epochs_num",
                                   str(C3_EPOCHS), "--batch_size", "16", "--learning_rate", "1e-3"])
    stdout = capsys.readouterr().out
    dev = [float(v) for v in re.findall(r"dev: accuracy ([0-9.]+)", stdout)]
    assert len(dev) == C3_EPOCHS and max(dev) > 0.6, stdout
    assert torch.load(out, weights_only=True)["output_layer.weight"].shape == (1, 64)
    pred = str(tmp_path / "pred.jsonl")
    load_script("inference/run_c3_infer.py").main([*common, "--load_model_path", out, "--test_path",
                                                   os.path.join(data, "test.json"), "--prediction_path", pred])
    import json
    rows = [json.loads(line) for line in open(pred, encoding="utf-8")]
    items = json.load(open(os.path.join(data, "test.json"), encoding="utf-8"))
    questions = [q for item in items for q in item[1]]
    assert len(rows) == 120 and all(set(r) == {"id", "label"} for r in rows)
    assert [r["id"] for r in rows] == [q["id"] for q in questions], "each prediction carries its question's id"
    assert all(0 <= r["label"] < len(q["choice"]) for r, q in zip(rows, questions)), "padding is never chosen"


def test_fine_tuning_uses_subword_composition(small_rnn, tmp_path):
    out = str(tmp_path / "m.bin")
    run_script("run_classifier.py", *classifier_argv(small_rnn, out, "--epochs_num", "1", "--subword_type", "char",
                                                     "--sub_vocab_path", VOCAB, "--subencoder", "avg"))
    state = torch.load(out, weights_only=True)
    assert state["subencoder.embedding_layer.weight"].shape == (676, 48)
    pred = str(tmp_path / "p.tsv")
    infer(out, small_rnn, os.path.join(CLS_DATA, "test_nolabel.tsv"), pred, "--subword_type", "char",
          "--sub_vocab_path", VOCAB, "--subencoder", "avg")
    assert len(read_rows(pred)) == 201


def test_seed_fixes_the_initial_weights():
    from uer.finetune.loop import FineTuner
    from uer.models.tagger import Tagger
    from uer.text.vocab import Vocab
    vocab = Vocab.load(VOCAB)

    def initial(seed):
        args = model_args({"emb_size": 16, "hidden_size": 16, "layers_num": 1, "dropout": 0.0}, "lstm",
                          embedding="word", labels_num=3, seed=seed, pretrained_model_path=None, fp16=False,
                          fp16_opt_level="O1")
        return FineTuner(args, Tagger, vocab).model.state_dict()
    a, b, c = initial(3), initial(3), initial(4)
    assert all(torch.equal(a[k], b[k]) for k in a) and not torch.equal(a["output_layer.weight"],
                                                                        c["output_layer.weight"])


# -- adversarial training (--use_adv), and the successor's optimizer and schedules end to end

class TableModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.table = torch.nn.Parameter(torch.randn(5, 3))
        self.head = torch.nn.Linear(3, 1)

    def loss(self):
        return self.head(torch.tanh(self.table)).pow(2).sum()


def attack_record(adversary):
    """(pushes' norms seen by each adversarial pass, grads after the attack, grads of each pass alone, model)."""
    model = TableModel()
    model.loss().backward()
    original, normal = model.table.detach().clone(), model.table.grad.clone()
    norms, alone = [], []

    def adversarial_backward():
        norms.append(float((model.table.detach() - original).norm()))
        before = model.table.grad.clone() if model.table.grad is not None else torch.zeros_like(normal)
        model.loss().backward()
        alone.append(model.table.grad - before)
    adversary.attack(model, model.table, adversarial_backward)
    assert torch.equal(model.table, original)  # put back exactly
    return norms, model.table.grad, normal, alone


def test_fgm_pushes_the_table_by_epsilon_and_adds_the_pushed_gradients():
    from uer.finetune.adversarial import FGM
    norms, grad, normal, alone = attack_record(FGM(0.25))
    assert norms == [pytest.approx(0.25, rel=1e-6)]
    assert torch.allclose(grad, normal + alone[0], atol=1e-6)


def test_pgd_pushes_by_alpha_within_epsilon_and_keeps_the_last_pass():
    from uer.finetune.adversarial import PGD
    norms, grad, normal, alone = attack_record(PGD(epsilon=0.5, alpha=0.3, k=3))
    assert norms[0] == pytest.approx(0.3, rel=1e-6)
    assert len(norms) == 3 and all(n <= 0.5 + 1e-6 for n in norms) and norms[1] > 0.3
    assert torch.allclose(grad, normal + alone[-1], atol=1e-6)  # the earlier passes only steer the push


@pytest.mark.parametrize("extra", [["--use_adv", "--adv_type", "fgm", "--fgm_epsilon", "0.1"],
                                   ["--use_adv", "--adv_type", "pgd", "--optimizer", "adafactor",
                                    "--scheduler", "cosine"]])
def test_classifier_learns_with_adversarial_training(small_rnn, tmp_path, extra):
    out = str(tmp_path / "adv.bin")
    proc = run_script("run_classifier.py", *classifier_argv(small_rnn, out, "--epochs_num", "2", *extra))
    assert max(accuracies(proc.stdout, "dev")) > 0.7, proc.stdout
    assert f"adversarial training: {extra[2]}" in proc.stderr


def test_use_adv_refuses_a_model_without_a_word_table():
    from uer.finetune.adversarial import word_table
    with pytest.raises(UserInputError, match="this model's embedding has none"):
        word_table(TableModel())


def test_every_task_script_is_a_shim_over_its_task_module():
    """run_NAME.py and inference/run_NAME_infer.py name a task of uer/tasks (TASKS), whose module gives their
    options and their work; every task has its fine-tuning script."""
    import glob
    import re
    from uer.tasks import TASKS, task
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    named = {}
    for path in glob.glob(os.path.join(root, "run_*.py")) + glob.glob(os.path.join(root, "inference", "*.py")):
        with open(path, encoding="utf-8") as f:
            m = re.search(r'script\(__doc__, "(\w+)"(, inference=True)?\)', f.read())
        assert m, path
        inference = bool(m.group(2))
        assert inference == ("inference" in os.path.relpath(path, root)), path
        module = task(m.group(1))
        assert callable(module.infer if inference else module.fine_tune)
        assert (module.inference_options if inference else module.fine_tuning_options)("doc").parse_known_args
        named.setdefault(m.group(1), set()).add(inference)
    assert set(named) == set(TASKS) and all(False in sides for sides in named.values())
