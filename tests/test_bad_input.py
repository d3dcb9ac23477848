"""The table of bad inputs (docs/reliability.md), one test per row: each script answers with one line naming the
file (and the line where there is one) and what was expected, exits 2, prints no traceback and leaves no output."""
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, VOCAB, TINY, CORPUS
from uer.core.errors import UserInputError

OK_TSV = "label\ttext_a\n1\tgood book\n0\tbad book\n"


def write(path, content):
    with open(path, "wb") as f:
        f.write(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def preprocess(tmp, corpus, *extra, vocab=VOCAB):
    return ["preprocess.py", "--corpus_path", corpus, "--vocab_path", vocab, "--dataset_path", f"{tmp}/out.pt",
            "--seq_length", "64", *extra], f"{tmp}/out.pt"


def classifier(tmp, train=None, dev=None, *extra, vocab=VOCAB, config=TINY):
    train = train or write(f"{tmp}/train.tsv", OK_TSV)
    dev = dev or write(f"{tmp}/dev.tsv", OK_TSV)
    return ["run_classifier.py", "--vocab_path", vocab, "--config_path", config, "--train_path", train,
            "--dev_path", dev, "--epochs_num", "1", "--output_model_path", f"{tmp}/out.bin", *extra], f"{tmp}/out.bin"


def pretrain(tmp, dataset, *extra, vocab=VOCAB):
    return ["pretrain.py", "--dataset_path", dataset, "--vocab_path", vocab, "--config_path", TINY,
            "--total_steps", "2", "--batch_size", "4", "--output_model_path", f"{tmp}/out.bin", *extra], \
        f"{tmp}/out.bin-2"


def ner(tmp, train):
    return ["run_ner.py", "--vocab_path", VOCAB, "--config_path", TINY, "--train_path", train,
            "--dev_path", train, "--label2id_path", f"{ROOT}/datasets/ner_sample/label2id.json", "--epochs_num", "1",
            "--output_model_path", f"{tmp}/out.bin"], f"{tmp}/out.bin"


def other_vocab(tmp):
    with open(VOCAB, encoding="utf-8") as f:
        return write(f"{tmp}/vocab2.txt", f.read() + "extra_token\n")


def small_config(tmp):
    return write(f"{tmp}/config.json", json.dumps(dict(json.load(open(TINY)), max_seq_length=32)))


def no_specials_vocab(tmp):
    with open(VOCAB, encoding="utf-8") as f:
        return write(f"{tmp}/vocab.txt", "".join(t for t in f if t.strip() not in ("[CLS]", "[MASK]")))


def wrong_model(tmp):
    path = f"{tmp}/wrong.bin"
    torch.save({"embedding.word_embedding.weight": torch.zeros(5, 7)}, path)
    return path


def dataset(datasets, name):
    return datasets[name]


def config_without(tmp, key):
    config = json.load(open(TINY))
    del config[key]
    return write(f"{tmp}/c.json", json.dumps(config))


def saved_model(tmp, model_class=None, **extra):
    """A tiny BERT checkpoint (embedding + encoder, or model_class's heads too) of VOCAB's size."""
    from conftest import model_args
    from uer.model_builder import build_model
    from uer.model_saver import save_model
    args = model_args(json.load(open(TINY)), pooling="first", **extra)
    with open(VOCAB, encoding="utf-8") as f:
        vocab_size = sum(1 for _ in f)
    model = model_class(args, vocab_size) if model_class else build_model(args, vocab_size)
    path = f"{tmp}/saved.bin"
    save_model(model, path)
    return path


def classifier_model(tmp):
    from uer.models.classifier import Classifier
    return saved_model(tmp, Classifier, labels_num=2)


def infer(tmp, model, *extra):
    return ["inference/run_classifier_infer.py", "--load_model_path", model, "--vocab_path", VOCAB,
            "--config_path", TINY, "--test_path", write(f"{tmp}/t.tsv", "text_a\ngood\n"), "--prediction_path",
            f"{tmp}/pred.tsv", *extra], f"{tmp}/pred.tsv"


# (row of the table in docs/reliability.md, argv builder(tmp, datasets) -> (argv, output path),
#  what the one line must say)
ROWS = [
    ("missing corpus", lambda t, d: preprocess(t, f"{t}/nope.txt"), "{t}/nope.txt: corpus file not found"),
    ("corpus is a directory", lambda t, d: preprocess(t, str(t)), "{t}: is a directory, expected a corpus file"),
    ("missing TSV", lambda t, d: classifier(t, f"{t}/nope.tsv"),
     "{t}/nope.tsv: cannot read file (No such file or directory)"),
    ("unreadable vocabulary (a directory)", lambda t, d: preprocess(t, CORPUS, vocab=str(t)),
     "{t}: cannot read vocabulary (Is a directory)"),
    ("non-UTF-8 corpus", lambda t, d: preprocess(t, write(f"{t}/c.txt", b"good\nbad \xff\n")),
     "{t}/c.txt:2: invalid UTF-8 bytes"),
    ("non-UTF-8 TSV", lambda t, d: classifier(t, write(f"{t}/x.tsv", b"label\ttext_a\n1\tgo\xffod\n")),
     "{t}/x.tsv:2: not valid UTF-8"),
    ("non-UTF-8 vocabulary", lambda t, d: preprocess(t, CORPUS, vocab=write(f"{t}/v.txt", b"[PAD]\n\xfe\n")),
     "{t}/v.txt:2: not valid UTF-8"),
    ("TSV without a header", lambda t, d: classifier(t, write(f"{t}/x.tsv", "1\tgood\n0\tbad\n")),
     "{t}/x.tsv:1: expected a header row naming the columns label, text_a"),
    ("TSV row with a missing column", lambda t, d: classifier(t, write(f"{t}/x.tsv", OK_TSV + "1\n")),
     "{t}/x.tsv:4: expected 2 tab-separated fields (label, text_a), found 1"),
    ("TSV with only a header", lambda t, d: classifier(t, write(f"{t}/x.tsv", "label\ttext_a\n\n")),
     "{t}/x.tsv: no data rows after the header"),
    ("empty TSV", lambda t, d: classifier(t, write(f"{t}/x.tsv", "")),
     "{t}/x.tsv: empty file; expected a header row"),
    ("label outside 0..n-1", lambda t, d: classifier(t, None, write(f"{t}/x.tsv", OK_TSV + "2\tfine\n")),
     "{t}/x.tsv:4: label 2 is outside 0..1"),
    ("negative label", lambda t, d: classifier(t, write(f"{t}/x.tsv", OK_TSV + "-1\tfine\n")),
     "{t}/x.tsv:4: label -1 is outside 0 or more"),
    ("label not an integer", lambda t, d: classifier(t, write(f"{t}/x.tsv", OK_TSV + "pos\tfine\n")),
     "{t}/x.tsv:4: label 'pos' is not an integer"),
    ("tag not in label2id", lambda t, d: ner(t, write(f"{t}/x.tsv", "text_a\tlabel\na b\tO B-XYZ\n")),
     "{t}/x.tsv:2: tag 'B-XYZ' is not in"),
    ("tags and tokens differ in number", lambda t, d: ner(t, write(f"{t}/x.tsv", "text_a\tlabel\na b\tO\n")),
     "{t}/x.tsv:2: 2 tokens but 1 tags"),
    ("empty corpus", lambda t, d: preprocess(t, write(f"{t}/c.txt", "")), "{t}/c.txt: the corpus has no text"),
    ("corpus of empty lines", lambda t, d: preprocess(t, write(f"{t}/c.txt", "\n\n \n")),
     "{t}/c.txt: the corpus has no text"),
    ("vocabulary without [CLS]/[MASK]", lambda t, d: preprocess(t, CORPUS, vocab=no_specials_vocab(t)),
     "{t}/vocab.txt: vocabulary lacks the special token(s) [CLS], [MASK]"),
    ("--seq_length longer than the position embedding (fine-tuning)",
     lambda t, d: classifier(t, None, None, "--seq_length", "100", config=small_config(t)),
     "--seq_length 100 is longer than the position embedding: 32 positions (max_seq_length in {t}/config.json)"),
    ("dataset longer than the position embedding (pre-training)",
     lambda t, d: pretrain(t, d["bert"], "--config_path", small_config(t)),
     "has seq_length 64, longer than the position embedding (32 positions"),
    ("dataset made for another target", lambda t, d: pretrain(t, d["lm"], "--target", "bert"),
     "was made for --target lm, but pretrain.py was asked for --target bert"),
    ("dataset made with another vocabulary", lambda t, d: pretrain(t, d["bert"], vocab=other_vocab(t)),
     "was made with another vocabulary"),
    ("not a dataset", lambda t, d: pretrain(t, write(f"{t}/x.pt", OK_TSV)),
     "{t}/x.pt: not a dataset written by this project's preprocess.py"),
    ("truncated dataset", lambda t, d: pretrain(t, write(f"{t}/x.pt", open(d["bert"], "rb").read()[:3000])),
     "{t}/x.pt: dataset is truncated"),
    ("checkpoint that does not fit the config",
     lambda t, d: pretrain(t, d["bert"], "--pretrained_model_path", wrong_model(t)),
     "{t}/wrong.bin does not fit the model: shape mismatch for embedding.word_embedding.weight (file (5, 7), model "
     "(676, 64)). Check --config_path and the embedding/encoder flags."),
    ("checkpoint made with another vocabulary",
     lambda t, d: classifier(t, None, None, "--pretrained_model_path", saved_model(t), vocab=other_vocab(t)),
     "The vocabulary differs: the file's word embedding has 676 rows, this model's vocabulary 677 tokens; give "
     "--vocab_path (or --spm_model_path) the vocabulary the model was trained with."),
    ("classifier with another number of labels", lambda t, d: infer(t, classifier_model(t), "--labels_num", "3"),
     "The number of labels differs: the file's output_layer_2.bias has 2 outputs, this model 3 (from --labels_num)"),
    ("checkpoint of another encoder",
     lambda t, d: classifier(t, None, None, "--pretrained_model_path", saved_model(t), "--encoder", "lstm"),
     "{t}/saved.bin: none of the model's encoder weights is in the file: its encoder keys start with "
     "encoder.transformer.{{i}}., this model's with encoder.rnn."),
    ("config without a shape key", lambda t, d: classifier(t, config=config_without(t, "heads_num")),
     '{t}/c.json: no "heads_num"; --embedding bert --encoder bert is built from emb_size, hidden_size, layers_num, '
     "heads_num, feedforward_size"),
    ("RNN config without a shape key",
     lambda t, d: classifier(t, None, None, "--encoder", "lstm", config=config_without(t, "layers_num")),
     '{t}/c.json: no "layers_num"; --embedding bert --encoder lstm is built from emb_size, hidden_size, layers_num'),
    ("not a model file", lambda t, d: classifier(t, None, None, "--pretrained_model_path", write(f"{t}/m.bin", "x")),
     "{t}/m.bin: not a loadable UER model file"),
    ("config that is not JSON", lambda t, d: classifier(t, config=write(f"{t}/c.json", '{"hidden_size": 16,')),
     "{t}/c.json:1: not valid JSON"),
    ("encoder/target pair that cannot work", lambda t, d: pretrain(t, d["lm"], "--target", "lm", "--encoder", "bert"),
     "--target lm predicts each next token, but --encoder bert lets every position see the tokens after it"),
    ("bilm target without split directions",
     lambda t, d: pretrain(t, d["bilm"], "--target", "bilm", "--encoder", "lstm"),
     "--target bilm needs an encoder whose output halves are a forward and a backward model"),
    ("HF config without a size the conversion needs",
     lambda t, d: (["scripts/convert_albert_from_huggingface_to_uer.py", "--input_model_path",
                    os.path.dirname(write(f"{t}/config.json", '{"hidden_act": "gelu"}')), "--output_model_path",
                    f"{t}/out.bin"], f"{t}/out.bin"),
     "{t}/config.json: no 'embedding_size', which the converted model's config needs"),
]


@pytest.mark.parametrize("row, build, expected", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_row(row, build, expected, tmp_path, datasets):
    argv, output = build(tmp_path, datasets)
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert expected.format(t=tmp_path) in lines[0]
    assert not os.path.exists(output)
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


# Inputs that look wrong but are not: read as meant, or trained with a one-line warning.

BOM = "\ufeff"


def test_byte_order_marks_are_not_text(tmp_path):
    """Excel and Notepad start UTF-8 files with a byte-order mark: datasets, corpora, vocabularies, configs and
    user dictionaries read the same with it as without."""
    import preprocess
    from uer.finetune.data import read_tsv
    from uer.opts import load_config
    from uer.text.vocab import Vocab
    columns = read_tsv(write(f"{tmp_path}/x.tsv", BOM + OK_TSV), ["label", "text_a"])
    assert columns["label"] == ["1", "0"] and columns["text_a"] == ["good book", "bad book"]
    with open(VOCAB, encoding="utf-8") as f:
        vocab_text = f.read()
    assert Vocab.load(write(f"{tmp_path}/v.txt", BOM + vocab_text)).i2w == Vocab.load(VOCAB).i2w
    assert load_config(write(f"{tmp_path}/c.json", BOM + open(TINY).read())) == json.load(open(TINY))
    with open(CORPUS, encoding="utf-8") as f:
        corpus = f.read()
    for name, text in (("plain", corpus), ("bom", BOM + corpus)):
        preprocess.main(["--corpus_path", write(f"{tmp_path}/{name}.txt", text), "--vocab_path", VOCAB,
                         "--dataset_path", f"{tmp_path}/{name}.pt", "--target", "mlm", "--seq_length", "32"])
    assert open(f"{tmp_path}/plain.pt", "rb").read() == open(f"{tmp_path}/bom.pt", "rb").read()


def test_jieba_user_dictionary_with_a_byte_order_mark(tmp_path):
    pytest.importorskip("rjieba")
    from uer.text.segmenters import load_segmenter
    text = ["我在豆瓣书评网写书评"]
    plain = load_segmenter("jieba", write(f"{tmp_path}/plain.txt", "瓣书评网 10\n")).word_lengths(text)
    assert 4 in plain[0]  # the dictionary's word is cut whole
    assert load_segmenter("jieba", write(f"{tmp_path}/bom.txt", BOM + "瓣书评网 10\n")).word_lengths(text) == plain


def fine_tune(tmp_path, train, dev, *extra):
    import run_classifier
    run_classifier.main(["--vocab_path", VOCAB, "--config_path", TINY, "--train_path", write(f"{tmp_path}/train.tsv",
                         train), "--dev_path", write(f"{tmp_path}/dev.tsv", dev), "--epochs_num", "1",
                         "--output_model_path", f"{tmp_path}/out.bin", "--seq_length", "16", *extra])


def warnings_of(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]


def test_labels_from_one_and_labels_unseen_in_training_are_warned_about(tmp_path, capsys):
    fine_tune(tmp_path, "label\ttext_a\n1\tgood\n2\tbad\n1\tfine\n", "label\ttext_a\n0\tgood\n2\tbad\n")
    assert warnings_of(capsys) == [
        f"warning: {tmp_path}/train.tsv: no example has label 0 (labels are 1..2): training 3 classes, one never "
        "seen; labels count from 0",
        f"warning: {tmp_path}/dev.tsv: label(s) 0 appear here but in no example of {tmp_path}/train.tsv"]
    fine_tune(tmp_path, "label\ttext_a\n0\tgood\n3\tbad\n", "label\ttext_a\n0\tgood\n")
    assert warnings_of(capsys) == [f"warning: {tmp_path}/train.tsv: label(s) 1, 2 below the largest (3) have no "
                                   "example: training 4 classes"]
    fine_tune(tmp_path, OK_TSV, OK_TSV)
    assert warnings_of(capsys) == []


def test_soft_targets_take_the_number_of_labels_from_the_logits(tmp_path, capsys):
    """UER-py's distillation: a teacher that predicts label 0 everywhere still gives two-column logits."""
    train = "label\ttext_a\tlogits\n0\tgood\t0.9 0.1\n0\tbad\t0.6 0.4\n"
    fine_tune(tmp_path, train, OK_TSV, "--soft_targets")
    assert "2 training examples, 2 labels" in capsys.readouterr().out
    with pytest.raises(UserInputError, match=r"train.tsv:3: label 2 is outside 0..1"):
        fine_tune(tmp_path, train.replace("0\tbad", "2\tbad"), OK_TSV, "--soft_targets")
