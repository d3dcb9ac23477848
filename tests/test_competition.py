"""UER-py 2020's competition kit: run_classifier_cv.py (folds, fold models, out-of-fold features),
inference/run_classifier_infer_cv.py, scripts/run_lgb.py, scripts/run_bayesopt.py, scripts/multi_single_convert.py."""
import os

import numpy as np
import pytest
import torch

from conftest import ROOT, VOCAB, run_script
from uer.finetune.cross_validation import fold_of, fold_path
from uer.core.errors import UserInputError

DATA = os.path.join(ROOT, "datasets", "book_review")
LSTM = ["--embedding", "word", "--encoder", "lstm", "--pooling", "mean"]


def test_folds_are_uer_pys_contiguous_blocks_or_stratified_shuffles():
    assert fold_of(np.zeros(11), 5).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3]  # size 11 // 5 + 1 = 3
    assert np.bincount(fold_of(np.zeros(20000), 5)).tolist() == [4001] * 4 + [3996]
    labels = np.array([0] * 30 + [1] * 10)
    folds = fold_of(labels, 5, shuffle=True, seed=3)
    assert [np.bincount(labels[folds == k]).tolist() for k in range(5)] == [[6, 2]] * 5  # each label dealt evenly
    assert folds.tolist() == fold_of(labels, 5, shuffle=True, seed=3).tolist()
    assert folds.tolist() != fold_of(labels, 5, shuffle=True, seed=4).tolist()
    with pytest.raises(UserInputError, match="--folds_num 1"):
        fold_of(labels, 1)


def test_fold_models_are_named_before_the_suffix():
    assert fold_path("models/classifier_model.bin", 0) == "models/classifier_model-fold_0.bin"
    assert fold_path("out/m", 3) == "out/m-fold_3"


@pytest.fixture(scope="module")
def cross_validated(tmp_path_factory):
    work = tmp_path_factory.mktemp("cv")
    config = work / "rnn.json"
    config.write_text('{"emb_size": 32, "hidden_size": 32, "layers_num": 1, "dropout": 0.0}')
    common = ["--vocab_path", VOCAB, "--config_path", str(config), *LSTM]
    proc = run_script("run_classifier_cv.py", *common, "--train_path", os.path.join(DATA, "train.tsv"),
                      "--train_features_path", str(work / "train" / "train_features_0.npy"), "--output_model_path",
                      str(work / "cls.bin"), "--folds_num", "3", "--epochs_num", "1", "--batch_size", "32",
                      "--learning_rate", "3e-3")
    run_script("inference/run_classifier_infer_cv.py", *common, "--load_model_path", str(work / "cls.bin"),
               "--test_path", os.path.join(DATA, "test_nolabel.tsv"), "--test_features_path",
               str(work / "test" / "test_features_0.npy"), "--labels_num", "2", "--folds_num", "3")
    return work, common, proc.stdout


def fold_probabilities(work, common, k, test_path):
    from uer.tasks.classification import read_classification, logits_of
    from uer.finetune.prediction import predict
    from uer.model_loader import load_model
    from uer.models.classifier import Classifier
    from uer.opts import parse
    from uer.text.tokenizers import load_vocab_and_tokenizer
    import importlib.util
    spec = importlib.util.spec_from_file_location("cv", os.path.join(ROOT, "run_classifier_cv.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    args = parse(script.build_parser(), [*common, "--train_path", test_path, "--train_features_path", "x.npy"])
    args.labels_num = 2
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    examples = read_classification(test_path, tokenizer, args.seq_length, with_labels="nolabel" not in test_path)
    model = Classifier(args, len(vocab), vocab)
    load_model(model, fold_path(str(work / "cls.bin"), k))
    return torch.softmax(torch.stack(predict(model, examples, 32, "cpu", logits_of)), -1).numpy()


def test_out_of_fold_features_are_each_examples_held_out_prediction_in_file_order(cross_validated):
    work, common, stdout = cross_validated
    features = np.load(work / "train" / "train_features_0.npy")
    assert features.shape == (800, 2) and np.allclose(features.sum(1), 1, atol=1e-5)
    assert [os.path.exists(work / f"cls-fold_{k}.bin") for k in range(4)] == [True, True, True, False]
    first_fold = fold_probabilities(work, common, 0, os.path.join(DATA, "train.tsv"))[:267]  # size 800 // 3 + 1
    assert np.allclose(features[:267], first_fold, atol=1e-5)
    assert not np.allclose(features[267:534], fold_probabilities(work, common, 0, os.path.join(DATA, "train.tsv"))
                           [267:534], atol=1e-3)  # fold 1's rows come from fold 1's model
    assert "3 folds: mean accuracy" in stdout and "fold 2: accuracy" in stdout


def test_test_features_are_the_mean_of_the_fold_models(cross_validated):
    work, common, _ = cross_validated
    test = os.path.join(DATA, "test_nolabel.tsv")
    expected = np.mean([fold_probabilities(work, common, k, test) for k in range(3)], axis=0)
    assert np.allclose(np.load(work / "test" / "test_features_0.npy"), expected, atol=1e-5)


def test_lightgbm_stacking_and_bayesian_search(cross_validated, tmp_path):
    pytest.importorskip("lightgbm")
    pytest.importorskip("bayes_opt")
    work, _, _ = cross_validated
    for split in ("train", "test"):  # a second "model": the first one's features, reversed in order of labels
        np.save(work / split / f"{split}_features_1.npy", np.load(work / split / f"{split}_features_0.npy")[:, ::-1])
    lgb = ["--train_path", os.path.join(DATA, "train.tsv"), "--train_features_path", str(work / "train"),
           "--models_num", "2", "--labels_num", "2"]
    proc = run_script("scripts/run_lgb.py", *lgb, "--test_path", os.path.join(DATA, "test.tsv"),
                      "--test_features_path", str(work / "test"), "--boost_rounds", "30")
    accuracy = float(proc.stdout.split("accuracy ")[1].split()[0])
    assert accuracy > 0.8 and "macro-F1" in proc.stdout and "confusion matrix" in proc.stdout
    missing = run_script("scripts/run_lgb.py", *lgb[:-4], "--models_num", "3", "--labels_num", "2", "--test_path",
                         os.path.join(DATA, "test.tsv"), "--test_features_path", str(work / "test"), check=False)
    assert missing.returncode == 2 and "train_features_2.npy: not found (--models_num 3" in missing.stderr
    search = run_script("scripts/run_bayesopt.py", *lgb, "--folds_num", "3", "--epochs_num", "2", "--init_points",
                        "2", "--boost_rounds", "10")
    assert "best cross-validated accuracy" in search.stdout and "--num_leaves" in search.stdout


def test_missing_lightgbm_is_one_line(monkeypatch):
    import builtins
    real = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name == "lightgbm" else real(name, *a, **k))
    from uer.finetune.stacking import lightgbm
    with pytest.raises(UserInputError, match="scripts/run_lgb.py needs LightGBM: pip install lightgbm"):
        lightgbm("scripts/run_lgb.py")


def test_module_prefix_round_trip(tmp_path):
    state = {"embedding.word_embedding.weight": torch.randn(3, 2), "encoder.x": torch.randn(2)}
    torch.save({"module." + k: v for k, v in state.items()}, tmp_path / "wrapped.bin")
    run_script("scripts/multi_single_convert.py", "--input_model_path", str(tmp_path / "wrapped.bin"),
               "--output_model_path", str(tmp_path / "plain.bin"), "--delete_module_prefix")
    plain = torch.load(tmp_path / "plain.bin", weights_only=True)
    assert plain.keys() == state.keys() and all(torch.equal(plain[k], state[k]) for k in state)
    run_script("scripts/multi_single_convert.py", "--input_model_path", str(tmp_path / "plain.bin"),
               "--output_model_path", str(tmp_path / "again.bin"), "--add_module_prefix")
    assert set(torch.load(tmp_path / "again.bin", weights_only=True)) == {"module." + k for k in state}
