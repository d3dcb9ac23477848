"""The later task scripts (regression, multi-label, siamese, SimCSE, prompt) and their inference on synthetic
sets whose answer is known (benchmarks/data/synthetic_tasks.py): each learns it (the metric well above chance), and
their formats and metrics."""
from argparse import Namespace

import numpy as np
import pytest

from conftest import VOCAB, TINY as TINY_CONFIG, run_script
from uer.finetune.metrics import pearson, ranks, multi_label_f1
from synthetic_tasks import scored, multi_labelled, topic_pairs, topic_positives, marked, write_tsv
from uer.core.errors import UserInputError

LSTM = ["--embedding", "word", "--encoder", "lstm", "--pooling", "mean", "--learning_rate", "3e-3",
        "--batch_size", "32", "--epochs_num", "4", "--report_steps", "1000"]


def write(path, header, rows):
    return write_tsv(str(path), header, rows)


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "rnn.json"
    path.write_text('{"emb_size": 32, "hidden_size": 32, "layers_num": 1, "dropout": 0.0}')
    return str(path)


def test_regression_learns_a_score_that_is_a_function_of_the_text(tmp_path, config):
    """label = the share of 好 among the characters."""
    train = write(tmp_path / "train.tsv", "label\ttext_a", scored(600, 0))
    dev = write(tmp_path / "dev.tsv", "label\ttext_a", scored(200, 1))
    proc = run_script("run_regression.py", "--vocab_path", VOCAB, "--config_path", config, "--train_path", train,
                      "--dev_path", dev, "--test_path", dev, "--output_model_path", str(tmp_path / "r.bin"), *LSTM)
    pearsons = [float(line.split()[2]) for line in proc.stdout.splitlines() if line.startswith("dev: Pearson")]
    assert len(pearsons) == 4 and max(pearsons) > 0.9 and pearsons[-1] > pearsons[0], proc.stdout
    assert "test: Pearson" in proc.stdout
    out = tmp_path / "pred.tsv"
    run_script("inference/run_regression_infer.py", "--vocab_path", VOCAB, "--config_path", config, "--load_model_path",
               str(tmp_path / "r.bin"), "--test_path", dev, "--prediction_path", str(out), "--embedding", "word",
               "--encoder", "lstm", "--pooling", "mean")
    lines = out.read_text().splitlines()
    predicted = np.array([float(v) for v in lines[1:]])
    assert lines[0] == "label" and pearson(predicted, [float(r[0]) for r in scored(200, 1)]) == \
        pytest.approx(max(pearsons), abs=1e-4)


def test_multi_label_learns_which_markers_a_text_has(tmp_path, config):
    """label ids: 0 when 好 appears, 1 for 坏, 2 for 书 (each with probability 0.4, any number of them)."""
    train = write(tmp_path / "train.tsv", "label\ttext_a", multi_labelled(600, 0))
    dev = write(tmp_path / "dev.tsv", "label\ttext_a", multi_labelled(200, 1))
    proc = run_script("run_classifier_multi_label.py", "--vocab_path", VOCAB, "--config_path", config,
                      "--train_path", train, "--dev_path", dev, "--output_model_path", str(tmp_path / "m.bin"),
                      *LSTM, "--pooling", "max")
    micro = [float(line.split()[2]) for line in proc.stdout.splitlines() if line.startswith("dev: micro-F1")]
    assert len(micro) == 4 and max(micro) > 0.9, proc.stdout  # always predicting every label: about 0.57
    assert "3 labels" in proc.stdout
    out = tmp_path / "pred.tsv"
    run_script("inference/run_classifier_multi_label_infer.py", "--vocab_path", VOCAB, "--config_path", config,
               "--load_model_path", str(tmp_path / "m.bin"), "--test_path", dev, "--prediction_path", str(out),
               "--labels_num", "3", "--embedding", "word", "--encoder", "lstm", "--pooling", "max", "--output_prob")
    lines = out.read_text().splitlines()
    assert lines[0] == "label\tprob" and len(lines) == 201
    predicted = np.zeros((200, 3), dtype=np.float32)
    for k, line in enumerate(lines[1:]):
        ids, probs = line.split("\t")
        assert [i for i, p in enumerate(map(float, probs.split())) if p >= 0.5] == [int(i) for i in ids.split(",") if i]
        predicted[k, [int(i) for i in ids.split(",") if i]] = 1
    gold = np.zeros((200, 3), dtype=np.float32)
    for k, (ids, _) in enumerate(multi_labelled(200, 1)):
        gold[k, [int(i) for i in ids.split(",") if i]] = 1
    assert multi_label_f1(predicted, gold)[0] == pytest.approx(max(micro), abs=1e-4)


def test_multi_label_ids_are_checked(tmp_path):
    from argparse import Namespace
    from uer.tasks.multi_label import read_multi_label
    from uer.text.tokenizers import load_vocab_and_tokenizer
    _, tokenizer = load_vocab_and_tokenizer(Namespace(vocab_path=VOCAB, spm_model_path=None, tokenizer="bert"))
    bad = write(tmp_path / "bad.tsv", "label\ttext_a", [("0,x", "好")])
    with pytest.raises(UserInputError, match="bad.tsv:2: label '0,x' is not comma-separated integer ids"):
        read_multi_label(bad, tokenizer, 16)
    unseen = write(tmp_path / "dev.tsv", "label\ttext_a", [("4", "好")])
    with pytest.raises(UserInputError, match="dev.tsv:2: label id 4 is outside 0..2"):
        read_multi_label(unseen, tokenizer, 16, labels_num=3)


def test_ranks_pearson_and_f1_on_hand_made_cases():
    assert ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0) and pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)
    gold = np.array([[1, 0, 1], [0, 1, 0]], dtype=np.float32)
    predicted = np.array([[1, 0, 0], [0, 1, 1]], dtype=np.float32)
    micro, macro = multi_label_f1(predicted, gold)
    assert micro == pytest.approx(2 * 2 / (3 + 3)) and macro == pytest.approx((1 + 1 + 0) / 3)


def test_siamese_learns_whether_two_texts_share_a_topic_and_its_inference_agrees(tmp_path, config):
    train = write(tmp_path / "train.tsv", "label\ttext_a\ttext_b", topic_pairs(800, 0))
    dev = write(tmp_path / "dev.tsv", "label\ttext_a\ttext_b", topic_pairs(200, 1))
    model = str(tmp_path / "s.bin")
    proc = run_script("run_classifier_siamese.py", "--vocab_path", VOCAB, "--config_path", config, "--train_path",
                      train, "--dev_path", dev, "--output_model_path", model, *LSTM, "--epochs_num", "6")
    accuracies = [float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("accuracy")]
    assert "800 training pairs, 2 labels" in proc.stdout
    assert len(accuracies) == 6 and max(accuracies) > 0.85, proc.stdout  # chance: 0.5
    out = tmp_path / "pred.tsv"
    run_script("inference/run_classifier_siamese_infer.py", "--vocab_path", VOCAB, "--config_path", config,
               "--load_model_path", model, "--test_path", dev, "--prediction_path", str(out), "--labels_num", "2",
               "--embedding", "word", "--encoder", "lstm", "--output_prob")
    lines = out.read_text().splitlines()
    gold = [r[0] for r in topic_pairs(200, 1)]
    predicted = [line.split("\t")[0] for line in lines[1:]]
    assert lines[0] == "label\tprob" and len(predicted) == 200
    assert np.mean([p == g for p, g in zip(predicted, gold)]) == pytest.approx(max(accuracies), abs=1e-9)


def test_separate_towers_both_start_from_the_pretrained_body(tmp_path):
    import torch
    from conftest import model_args
    from uer.model_loader import load_model
    from uer.models.sentence import SiameseClassifier
    args = model_args({"emb_size": 16, "hidden_size": 16, "feedforward_size": 32, "heads_num": 2,
                       "layers_num": 1}, pooling="mean", separate_towers=True)
    torch.manual_seed(0)
    pretrained = SiameseClassifier(args, 50)
    path = str(tmp_path / "p.bin")
    torch.save({k: v for k, v in pretrained.state_dict().items() if k.startswith(("embedding.", "encoder."))}, path)
    torch.manual_seed(1)
    model = SiameseClassifier(args, 50)
    load_model(model, path, ignore_prefixes=("output_layer",) + model.copied_after_loading)
    assert not torch.equal(model.tower_b.encoder.transformer[0].feed_forward.linear_1.weight,
                           model.encoder.transformer[0].feed_forward.linear_1.weight)
    model.pretrained_loaded()
    body = {k: v for k, v in model.state_dict().items() if k.startswith(("embedding.", "encoder."))}
    assert all(torch.equal(model.tower_b.state_dict()[k], v) for k, v in body.items())
    with torch.no_grad():
        model.tower_b.encoder.transformer[0].feed_forward.linear_1.weight.add_(0.1)  # v must come from tower_b
    src = torch.randint(1, 50, (3, 2, 7))
    seg = torch.ones_like(src)
    model.eval()
    u, v = model.encode(src[:, 0], seg[:, 0]).mean(1), model.tower_b.encode(src[:, 1], seg[:, 1]).mean(1)
    reference = model.output_layer_2(torch.tanh(model.output_layer_1(torch.cat([u, v, (u - v).abs(), u * v], -1))))
    torch.testing.assert_close(model(src, seg), reference)
    # DataParallel cuts a batch along its first dimension: pairs stay whole
    torch.testing.assert_close(torch.cat([model(src[:1], seg[:1]), model(src[1:], seg[1:])]), reference)


def test_simcse_supervised_pairs_learn_topics_and_the_inference_writes_similarities(tmp_path, config):
    """Positives share a topic; the dev pairs' score says whether they do: Spearman climbs from near 0."""
    positives = topic_positives(600, 0)
    train = write(tmp_path / "train.tsv", "text_a\ttext_b", positives)
    dev = write(tmp_path / "dev.tsv", "label\ttext_a\ttext_b", topic_pairs(200, 1, as_score=True))
    model = str(tmp_path / "sim.bin")
    proc = run_script("run_simcse.py", "--vocab_path", VOCAB, "--config_path", config, "--train_path", train,
                      "--dev_path", dev, "--output_model_path", model, *LSTM, "--temperature", "0.1")
    spearman = [float(line.split()[2]) for line in proc.stdout.splitlines() if line.startswith("dev: Spearman")]
    assert len(spearman) == 4 and max(spearman) > 0.7, proc.stdout  # the best possible on 0/1 labels: 0.87
    unsupervised = write(tmp_path / "unsup.tsv", "text_a", [(a,) for a, _ in positives[:64]])
    proc = run_script("run_simcse.py", "--vocab_path", VOCAB, "--config_path", config, "--train_path", unsupervised,
                      "--dev_path", dev, "--output_model_path", str(tmp_path / "u.bin"), *LSTM, "--epochs_num", "1")
    assert "64 training pairs (each its own positive)" in proc.stdout and "dropout 0" in proc.stderr
    out = tmp_path / "sim.tsv"
    run_script("inference/run_simcse_infer.py", "--vocab_path", VOCAB, "--config_path", config, "--load_model_path",
               model, "--test_path", dev, "--prediction_path", str(out), "--embedding", "word", "--encoder", "lstm",
               "--pooling", "mean")
    similarity = np.array([float(v) for v in out.read_text().splitlines()[1:]])
    gold = np.array([float(r[0]) for r in topic_pairs(200, 1, as_score=True)])
    assert pearson(ranks(similarity), ranks(gold)) == pytest.approx(max(spearman), abs=1e-4)


@pytest.fixture(scope="module")
def mlm_model(tmp_path_factory):
    """A tiny BERT with an MLM head (random weights: what matters is that the prompt scripts read its head)."""
    import torch
    import json
    from conftest import model_args
    from uer.model_builder import build_model
    vocab, _ = tokenizer_of_vocab()
    with open(TINY_CONFIG) as f:
        args = model_args(json.load(f), target="mlm")
    torch.manual_seed(3)
    model = build_model(args, len(vocab), vocab)
    path = str(tmp_path_factory.mktemp("mlm") / "mlm.bin")
    torch.save(model.state_dict(), path)
    return model.eval(), path


def prompts_file(tmp_path, template="[TEXT_A],我[ANS]满意", words=None):
    import json
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps({"p": {"template": template, "answer_words": words or {"0": "不", "1": "很"}}},
                               ensure_ascii=False), encoding="utf-8")
    return str(path)


def tokenizer_of_vocab():
    from uer.text.tokenizers import load_vocab_and_tokenizer
    return load_vocab_and_tokenizer(Namespace(vocab_path=VOCAB, spm_model_path=None, tokenizer="bert"))


def test_prompt_puts_the_text_into_the_template_with_mask_at_the_answer(tmp_path):
    from uer.tasks.prompt import Prompt
    vocab, tokenizer = tokenizer_of_vocab()
    prompt = Prompt(prompts_file(tmp_path, "[TEXT_A]?[ANS],[TEXT_B]"), "p", tokenizer)
    sequences, answer_at = prompt.encode(tokenizer, ["好书", "书书书书书书"], ["是的", "的的的的"], 10)
    ids = [vocab.get(t) for t in ["[CLS]", "好", "书", "?", "[MASK]", ",", "是", "的", "[SEP]"]]
    assert sequences[0] == ids and answer_at[0] == 4
    assert len(sequences[1]) == 10 and answer_at[1] == 4  # 5 places for the texts: 2 + 3, the longer cut more
    assert prompt.answer_ids == [vocab.get("不"), vocab.get("很")]
    for template, words, message in (("[TEXT_A]很好", None, "must hold \\[ANS\\] once"),
                                     ("[TEXT_A][ANS]", {"0": "不", "2": "很"}, "labels 0..n-1"),
                                     ("[TEXT_A][ANS]", {"0": "不好", "1": "很"}, "is 2 tokens"),
                                     ("[TEXT_A][ANS]", {"0": "不", "1": "鑫"}, "'鑫', is not in the vocabulary")):
        with pytest.raises(UserInputError, match=message):
            Prompt(prompts_file(tmp_path, template, words), "p", tokenizer)
    with pytest.raises(UserInputError, match="no prompt 'q'"):
        Prompt(prompts_file(tmp_path), "q", tokenizer)


def test_zero_shot_prompt_reads_the_answer_words_off_the_mlm_head(tmp_path, mlm_model):
    import torch
    model, path = mlm_model
    vocab, tokenizer = tokenizer_of_vocab()
    rows = marked(40, 0)
    test = write(tmp_path / "test.tsv", "label\ttext_a", rows)
    prompts = prompts_file(tmp_path)
    out = tmp_path / "pred.tsv"
    common = ["--vocab_path", VOCAB, "--config_path", TINY_CONFIG, "--prompt_path", prompts, "--prompt_id", "p"]
    run_script("inference/run_classifier_prompt_infer.py", *common, "--load_model_path", path, "--test_path", test,
               "--prediction_path", str(out), "--output_logits", "--labels_num", "2")
    wrong = run_script("inference/run_classifier_prompt_infer.py", *common, "--load_model_path", path, "--test_path",
                       test, "--prediction_path", str(tmp_path / "x.tsv"), "--labels_num", "3", check=False)
    assert wrong.returncode == 2 and "--labels_num 3, but" in wrong.stderr and "2 answer words" in wrong.stderr
    lines = out.read_text().splitlines()[1:]
    logits = torch.tensor([[float(v) for v in line.split("\t")[1].split()] for line in lines])
    template = [",", "我", "[MASK]", "满", "意", "[SEP]"]
    ids = [[vocab.get(t) for t in ["[CLS]"] + list(text) + template] for _, text in rows]
    reference = []
    with torch.no_grad():
        for seq in ids:
            src = torch.tensor([seq])
            full = model.target.word_logits(model.encode(src, torch.ones_like(src))[0, seq.index(vocab.get("[MASK]"))])
            reference.append(full[[vocab.get("不"), vocab.get("很")]])
    torch.testing.assert_close(logits, torch.stack(reference), atol=1e-5, rtol=1e-5)
    proc = run_script("run_classifier_prompt.py", *common, "--pretrained_model_path", path, "--dev_path", test,
                      "--output_model_path", str(tmp_path / "z.bin"))
    expected = float((logits.argmax(-1).numpy() == np.array([int(r[0]) for r in rows])).mean())
    assert "zero-shot" in proc.stdout and f"accuracy {expected:.4f}" in proc.stdout, proc.stdout


def test_prompt_fine_tuning_learns_the_labels_and_refuses_a_model_without_mlm_head(tmp_path, mlm_model):
    import torch
    _, path = mlm_model
    train = write(tmp_path / "train.tsv", "label\ttext_a", marked(256, 1))
    dev = write(tmp_path / "dev.tsv", "label\ttext_a", marked(100, 2))
    common = ["--vocab_path", VOCAB, "--config_path", TINY_CONFIG, "--prompt_path", prompts_file(tmp_path),
              "--prompt_id", "p", "--dev_path", dev, "--batch_size", "16", "--report_steps", "1000"]
    proc = run_script("run_classifier_prompt.py", *common, "--pretrained_model_path", path, "--train_path", train,
                      "--learning_rate", "1e-3", "--epochs_num", "8", "--output_model_path", str(tmp_path / "p.bin"))
    accuracies = [float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("accuracy")]
    assert len(accuracies) == 8 and max(accuracies) > 0.9, proc.stdout  # chance: 0.5
    body = str(tmp_path / "body.bin")
    torch.save({k: v for k, v in torch.load(path).items() if not k.startswith("target.")}, body)
    proc = run_script("run_classifier_prompt.py", *common, "--pretrained_model_path", body, check=False)
    assert proc.returncode != 0 and "no MLM head (target.mlm_* weights)" in proc.stderr


def test_siamese_separate_towers_from_a_pretrained_model_and_its_refusals(tmp_path, mlm_model):
    import torch
    _, path = mlm_model
    train = write(tmp_path / "train.tsv", "label\ttext_a\ttext_b", topic_pairs(40, 0))
    common = ["run_classifier_siamese.py", "--vocab_path", VOCAB, "--config_path", TINY_CONFIG, "--train_path",
              train, "--dev_path", train, "--pretrained_model_path", path, "--separate_towers", "--epochs_num", "1",
              "--output_model_path", str(tmp_path / "s.bin"), "--learning_rate", "0", "--warmup", "0"]
    proc = run_script(*common)
    assert "WARNING" not in proc.stderr, proc.stderr  # tower_b is filled from the pre-trained body, not missing
    saved, pretrained = torch.load(tmp_path / "s.bin"), torch.load(path)
    word = "embedding.word_embedding.weight"
    assert torch.equal(saved["tower_b." + word], pretrained[word]) and torch.equal(saved[word], pretrained[word])
    proc = run_script(*common, "--use_lora", check=False)
    assert proc.returncode != 0 and "--separate_towers with --use_lora" in proc.stderr
