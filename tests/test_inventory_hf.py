"""TencentPretrain's tokenizer names against transformers: --tokenizer bpe as GPT2Tokenizer, --tokenizer
xlmroberta as XLMRobertaTokenizer, on the shipped samples and on fuzzed text. Needs
`pip install -r requirements-interop.txt`; skipped without it."""
import random
import shutil
from argparse import Namespace

import pytest

from conftest import CORPUS, CORPUS_CLS
from test_inventory import gpt2_files, spm_model

transformers = pytest.importorskip("transformers")


def sample_texts(n_fuzz=300, seed=3):
    with open(CORPUS, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f][:200]
    with open(CORPUS_CLS, encoding="utf-8") as f:
        lines += [line.rstrip("\n").split("\t")[-1] for line in f][:100]
    rng = random.Random(seed)
    alphabet = "abcXYZ 0129,.!?'\"-_/\\\t\n这本书很好。，！😀é ñ  \u3000" + "".join(chr(rng.randrange(0x20, 0x3000))
                                                                             for _ in range(60))
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))) for _ in range(n_fuzz)]
    return lines + fuzz + ["isn't", "  two  spaces", "end with space ", "'s 're 've"]


def test_bpe_ids_are_gpt2_tokenizer_s(tmp_path):
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab_path, merges = gpt2_files(tmp_path / "gpt2")
    _, ours = load_vocab_and_tokenizer(Namespace(tokenizer="bpe", vocab_path=vocab_path, merges_path=merges),
                                       padding=False)
    theirs = transformers.GPT2Tokenizer.from_pretrained(str(tmp_path / "gpt2"))
    for text in sample_texts():
        assert ours.encode(text) == theirs.encode(text), repr(text)


def test_xlmroberta_ids_are_xlmroberta_tokenizer_s(tmp_path):
    from uer.text.tokenizers import load_vocab_and_tokenizer
    path = spm_model(tmp_path)
    vocab, ours = load_vocab_and_tokenizer(Namespace(tokenizer="xlmroberta", spm_model_path=path, vocab_path=None))
    (tmp_path / "hf").mkdir()
    shutil.copy(path, tmp_path / "hf" / "sentencepiece.bpe.model")
    theirs = transformers.XLMRobertaTokenizer.from_pretrained(str(tmp_path / "hf"))
    for text in sample_texts():
        assert ours.encode(text) == theirs.encode(text, add_special_tokens=False), repr(text)
    assert vocab.get("[MASK]") == theirs.mask_token_id and len(vocab) == len(theirs)
