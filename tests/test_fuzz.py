"""Property-based tests: tokenizers and file readers on arbitrary text and bytes either work or raise the
documented one-line UserInputError naming the file, never anything else. Derandomized with a bounded number
of examples, so CI runs the same cases in bounded time (FUZZ_EXAMPLES=N searches N fresh random cases)."""
import functools
import json
import os
import struct
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st

from conftest import VOCAB
from uer.core.errors import UserInputError
from uer.text.vocab import Vocab

# FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py searches longer, with fresh random cases.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)), deadline=None,
                derandomize="FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
VOCABULARY = Vocab.load(VOCAB)
# Text that leans on what breaks tokenizers: CJK, combining marks, controls, surrogates-adjacent, whitespace kinds.
TEXT = st.text(alphabet=st.characters(codec="utf-8", categories=None), max_size=60) | st.text(
    alphabet="好书的 \t\r\n\x00\x0b\u3000\u200b\u0301\ufffd😀[]UNK#aé", max_size=60)


def bert_tokenizers():
    from uer.text.tokenizers import BertTokenizer
    return BertTokenizer(VOCABULARY), BertTokenizer(VOCABULARY, fast=False)


TOKENIZERS = bert_tokenizers()


def scratch_file(content):
    fd, path = tempfile.mkstemp(suffix=".fuzz")
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    return path


def only_clear_errors(read, content):
    """read(path) either succeeds or raises a one-line UserInputError that names the file."""
    path = scratch_file(content)
    try:
        return read(path)
    except UserInputError as e:
        assert path in str(e) and "\n" not in str(e), str(e)
        return None
    finally:
        os.unlink(path)


@FUZZ
@given(TEXT)
def test_bert_tokenizer_fast_path_equals_python_port(text):
    fast, slow = TOKENIZERS
    ids = fast.encode(text)
    assert ids == slow.convert_tokens_to_ids(slow.tokenize(text))
    assert all(0 <= i < len(VOCABULARY) for i in ids)


@FUZZ
@given(TEXT)
def test_char_and_space_tokenizers_map_every_token(text):
    from uer.text.tokenizers import CharTokenizer, SpaceTokenizer
    for tokenizer in (CharTokenizer(VOCABULARY), SpaceTokenizer(VOCABULARY)):
        ids = tokenizer.encode(text)
        assert all(0 <= i < len(VOCABULARY) for i in ids)
    assert len(CharTokenizer(VOCABULARY).encode(text)) == len(text.strip())


@FUZZ
@given(st.binary(max_size=300))
def test_text_readers_on_arbitrary_bytes(content):
    from uer.core.readers import read_lines, read_json
    lines = only_clear_errors(read_lines, content)
    if lines is not None:
        assert "\n".join(lines) in content.decode("utf-8").replace("\r\n", "\n").replace("\r", "") or lines
    only_clear_errors(lambda p: read_json(p, "fuzz"), content)


TSV_BYTES = st.lists(st.lists(st.sampled_from(["label", "text_a", "text_b", "0", "1", "7", "-1", "x", "²", "٣",
                                               "好书", "", " ", "\xff\xfe"]), max_size=4), max_size=8)


def tsv_bytes(rows):
    return b"\n".join(b"\t".join(f.encode("utf-8", "surrogateescape") if f != "\xff\xfe" else b"\xff\xfe"
                                 for f in row) for row in rows)


@FUZZ
@given(TSV_BYTES | st.binary(max_size=200).map(lambda b: [[b.decode("latin-1")]]))
def test_classification_reader_on_arbitrary_tsv(rows):
    from uer.tasks.classification import read_classification
    examples = only_clear_errors(lambda p: read_classification(p, TOKENIZERS[0], 32, 2),
                                 tsv_bytes(rows))
    if examples is not None:
        assert set(np.unique(examples.fields["label"])) <= {0, 1}


@FUZZ
@given(TSV_BYTES)
def test_labeled_corpus_lines(rows):
    from uer.data.corpus import parse_labeled
    path = "corpus.txt"
    lines = [ln.decode("utf-8", "replace") for ln in tsv_bytes(rows).split(b"\n")]
    try:
        labels, texts_a, _ = parse_labeled(path, lines, batch_offset=1)
    except UserInputError as e:
        assert str(e).startswith(f"{path}:")
    except FileNotFoundError:
        pass  # the line number lookup reads the (absent) file; only reached on an error
    else:
        assert all(label >= 0 for label in labels) and len(labels) == len(texts_a)


@FUZZ
@given(st.binary(max_size=300))
def test_vocabulary_reader(content):
    only_clear_errors(Vocab.load, content)


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 3))
def test_dataset_reader_on_arbitrary_and_damaged_files(noise, how):
    from uer.data.dataset_io import DatasetFile, MAGIC
    if how == 0:
        content = noise
    elif how == 1:
        content = MAGIC + noise
    else:
        header = noise.decode("utf-8", "replace") if how == 2 else json.dumps(
            {"arrays": {"tokens": {"dtype": "<i4", "count": len(noise), "offset": 0}}})
        blob = header.encode("utf-8")
        content = MAGIC + struct.pack("<Q", len(blob)) + blob + noise
    only_clear_errors(DatasetFile, content)


@functools.lru_cache()
def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


@FUZZ
@given(data=st.data())
def test_pretrain_dataset_with_damaged_header_or_bytes(datasets, data):
    """A real dataset with one header value replaced, or bytes overwritten / cut off: loading it and reading a
    batch either works or stops with the clear error."""
    from uer.data.dataset_io import MAGIC
    from uer.data.pretrain_data import PretrainDataset
    real_dataset = file_bytes(datasets["bert"])
    length = struct.unpack("<Q", real_dataset[len(MAGIC):len(MAGIC) + 8])[0]
    header = json.loads(real_dataset[len(MAGIC) + 8:len(MAGIC) + 8 + length])
    how = data.draw(st.sampled_from(["header", "bytes", "cut"]))
    if how == "header":
        key = data.draw(st.sampled_from(sorted(header)))
        header[key] = data.draw(st.none() | st.integers(-3, 10 ** 6) | st.text(max_size=5) | st.booleans())
        blob = json.dumps(header).encode("utf-8").ljust(length)[:length]
        content = real_dataset[:len(MAGIC) + 8] + blob + real_dataset[len(MAGIC) + 8 + length:]
    elif how == "bytes":
        at = data.draw(st.integers(0, len(real_dataset) - 1))
        content = real_dataset[:at] + data.draw(st.binary(min_size=1, max_size=16)) + real_dataset[at + 16:]
    else:
        content = real_dataset[:data.draw(st.integers(0, len(real_dataset) - 1))]

    def load_and_batch(path):
        dataset = PretrainDataset(path)
        src, tgt, seg = dataset.batch(np.arange(min(4, len(dataset))))
        assert src.min() >= 0 and src.max() < dataset.header["vocab_size"]
    only_clear_errors(load_and_batch, content)


@FUZZ
@given(st.binary(max_size=300))
def test_model_reader(content):
    from uer.model_loader import read_state_dict
    only_clear_errors(read_state_dict, content)


@pytest.mark.parametrize("what", ["config", "label2id"])
@FUZZ
@given(content=st.binary(max_size=120) | st.sampled_from([b"[]", b"1", b'"x"', b'{"a": "b"}', b'{"O": -1}',
                                                          b'{"O": 0, "B": 0}', b"null", b'{"layers_num": "x"}']))
def test_json_inputs(what, content):
    from uer.opts import load_config
    from uer.tasks.tagging import read_label2id
    only_clear_errors(load_config if what == "config" else read_label2id, content)
