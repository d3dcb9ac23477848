"""run_regression.py and run_classifier_multi_label.py on synthetic sets whose answer is known: each learns it
(the metric well above chance), and their formats and metrics."""
import numpy as np
import pytest

from conftest import VOCAB, run_script
from uer.finetune.metrics import pearson, ranks, multi_label_f1
from uer.utils.errors import UserInputError

NEUTRAL, MARKERS = list("的了是我很看"), list("好坏书")
LSTM = ["--embedding", "word", "--encoder", "lstm", "--pooling", "mean", "--learning_rate", "3e-3",
        "--batch_size", "32", "--epochs_num", "4", "--report_steps", "1000"]


def texts(n, seed):
    rng = np.random.default_rng(seed)
    return [rng.choice(NEUTRAL + MARKERS, size=int(rng.integers(4, 16))).tolist() for _ in range(n)]


def write(path, header, rows):
    path.write_text(header + "\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "rnn.json"
    path.write_text('{"emb_size": 32, "hidden_size": 32, "layers_num": 1, "dropout": 0.0}')
    return str(path)


def test_regression_learns_a_score_that_is_a_function_of_the_text(tmp_path, config):
    """label = the share of 好 among the characters."""
    def rows(n, seed):
        return [(f"{t.count('好') / len(t):.4f}", "".join(t)) for t in texts(n, seed)]
    train = write(tmp_path / "train.tsv", "label\ttext_a", rows(600, 0))
    dev = write(tmp_path / "dev.tsv", "label\ttext_a", rows(200, 1))
    proc = run_script("run_regression.py", "--vocab_path", VOCAB, "--config_path", config, "--train_path", train,
                      "--dev_path", dev, "--test_path", dev, "--output_model_path", str(tmp_path / "r.bin"), *LSTM)
    pearsons = [float(line.split()[2]) for line in proc.stdout.splitlines() if line.startswith("dev: Pearson")]
    assert len(pearsons) == 4 and max(pearsons) > 0.9 and pearsons[-1] > pearsons[0], proc.stdout
    assert "test: Pearson" in proc.stdout


def test_multi_label_learns_which_markers_a_text_has(tmp_path, config):
    """label ids: 0 when 好 appears, 1 for 坏, 2 for 书 (each with probability 0.4, any number of them)."""
    def rows(n, seed):
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            text = rng.choice(NEUTRAL, size=int(rng.integers(4, 12))).tolist()
            held = [k for k in range(len(MARKERS)) if rng.random() < 0.4]
            for k in held:
                text.insert(int(rng.integers(0, len(text) + 1)), MARKERS[k])
            out.append((",".join(map(str, held)), "".join(text)))
        return out
    train = write(tmp_path / "train.tsv", "label\ttext_a", rows(600, 0))
    dev = write(tmp_path / "dev.tsv", "label\ttext_a", rows(200, 1))
    proc = run_script("run_classifier_multi_label.py", "--vocab_path", VOCAB, "--config_path", config,
                      "--train_path", train, "--dev_path", dev, "--output_model_path", str(tmp_path / "m.bin"),
                      *LSTM, "--pooling", "max")
    micro = [float(line.split()[2]) for line in proc.stdout.splitlines() if line.startswith("dev: micro-F1")]
    assert len(micro) == 4 and max(micro) > 0.9, proc.stdout  # always predicting every label: about 0.57
    assert "3 labels" in proc.stdout


def test_multi_label_ids_are_checked(tmp_path):
    from argparse import Namespace
    from uer.finetune.multi_label import read_multi_label
    from uer.utils.text.tokenizers import load_vocab_and_tokenizer
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
