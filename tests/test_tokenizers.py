import random

import pytest

from conftest import VOCAB
from uer.text.tokenizers import BertTokenizer, CharTokenizer, SpaceTokenizer, BasicTokenizer
from uer.text.vocab import Vocab
from uer.core.errors import UserInputError

tokenizers = pytest.importorskip("tokenizers")

MIXED = ["我喜欢这本书！It's GREAT, really… naïve café résumé", "Ünïcödé ÀÉÎÕÜ façade — “quotes” ‘single’",
         "emoji 😀👍🏽 ok? 好的😊", "unaffable running jumped", "tabs\tand\nnewlines\r\n and\u3000ideographic space",
         "control\x00chars\ufffd\x07zero\u200bwidth", "数字123和English混合mixed，标点：；「」【】",
         "a" * 101 + " short", "", "   ", "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ", "Ḱeep ŝtrange dïacritics ǅ ǈ", "İstanbul ß ﬁ"]


def english_vocab(tmp_path, cased):
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "run", "##ning", "jump",
             "##ed", "it", "'", "s", "great", ",", "really", "…", "naive", "cafe", "resume", "!", "?", "ok", "a",
             "short", "and", "tab", "##s", "new", "##line", "space", "emoji", "control", "chars", "zero", "width",
             "我", "喜", "欢", "这", "本", "书", "好", "的", "数", "字", "1", "##2", "##3", "和", "混", "合",
             "mixed", "english", "，", "：", "；", "「", "」", "【", "】", "—", "“", "”", "‘", "’", "quotes",
             "single", "keep", "strange"]
    if cased:
        words += ["It", "GREAT", "English", "Keep", "naïve", "café", "résumé", "Ünïcödé"]
    path = tmp_path / ("cased.txt" if cased else "uncased.txt")
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return str(path)


def reference_ids(vocab_path, text, lower):
    """An independent implementation: the `tokenizers` package's own BERT WordPiece tokenizer."""
    ref = tokenizers.BertWordPieceTokenizer(vocab_path, lowercase=lower, strip_accents=lower, clean_text=True,
                                            handle_chinese_chars=True)
    return ref.encode(text, add_special_tokens=False).ids


def random_texts(n, seed=0, specials=True):
    rng = random.Random(seed)
    alphabet = list("abcXYZ éÉüñçÅ中文書评，。！？,.!?'\"()[]#$%^&*-_=+ \t\n\r\x0b\x0c\x00\ufffd\u2028\u00a0"
                    "\u3000\u200b\u0085😀👍🏽İßﬁ日本語한국어αβγ") + ["un", "aff", "able", "running"]
    if specials:
        alphabet.append("[UNK]")
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(n)]


@pytest.mark.parametrize("cased", [False, True])
def test_python_bert_tokenizer_equals_reference(tmp_path, cased):
    vocab_path = english_vocab(tmp_path, cased)
    vocab = Vocab.load(vocab_path)
    assert vocab.is_cased == cased
    tok = BertTokenizer(vocab, fast=False)
    assert tok._fast is None
    # The reference registers [UNK] etc. as added tokens and keeps them whole in raw text; Google BERT (and we)
    # split "[UNK]" into "[", "unk", "]", so literal special tokens are left out of this comparison.
    for text in MIXED + random_texts(2000, specials=False):
        ours = tok.convert_tokens_to_ids(tok.tokenize(text))
        assert ours == reference_ids(vocab_path, text, not cased), repr(text)


def test_fast_path_equals_python_port_on_sample_vocab():
    vocab = Vocab.load(VOCAB)
    fast, slow = BertTokenizer(vocab), BertTokenizer(vocab, fast=False)
    assert fast._fast is not None
    texts = MIXED + random_texts(2000, seed=1)
    assert fast.encode_batch(texts) == [slow.convert_tokens_to_ids(slow.tokenize(t)) for t in texts]


def test_google_examples():
    basic = BasicTokenizer(do_lower_case=True)
    assert basic.tokenize(" \tHeLLo!how  \n Are yoU?  ") == ["hello", "!", "how", "are", "you", "?"]
    assert basic.tokenize("H\u00E9llo") == ["hello"]
    assert basic.tokenize("ah\u535A\u63A8zz") == ["ah", "\u535A", "\u63A8", "zz"]
    assert BasicTokenizer(do_lower_case=False).tokenize(" \tHeLLo!how  \n Are yoU?  ") == \
        ["HeLLo", "!", "how", "Are", "yoU", "?"]


@pytest.mark.parametrize("fast", [False, True])
def test_unknown_words_and_long_words(tmp_path, fast):
    vocab = Vocab.load(english_vocab(tmp_path, False))
    tok = BertTokenizer(vocab, fast=fast)
    assert tok.tokenize("unwanted running") == ["[UNK]", "run", "##ning"]
    # UER-py's WordPiece keeps words of up to 200 characters (Google's: 100)
    for text, tokens in [("un" + "aff" * 49 + " run", ["un"] + ["##aff"] * 49 + ["run"]),  # 149 characters
                         ("un" + "aff" * 66, ["un"] + ["##aff"] * 66),  # 200
                         ("un" + "aff" * 67 + " run", ["[UNK]", "run"])]:  # 203
        assert tok.tokenize(text) == tokens
        assert tok.encode_batch([text]) == [tok.convert_tokens_to_ids(tokens)]


def test_char_and_space_tokenizers():
    vocab = Vocab.load(VOCAB)
    assert CharTokenizer(vocab).tokenize("这本书Ω") == ["这", "本", "书", "[UNK]"]
    assert SpaceTokenizer(vocab).tokenize("这 本书 好") == ["这", "[UNK]", "好"]


def test_sentencepiece_tokenizer(tmp_path):
    spm = pytest.importorskip("sentencepiece")
    from conftest import CORPUS
    from argparse import Namespace
    from uer.text.tokenizers import load_vocab_and_tokenizer
    prefix = str(tmp_path / "sp")
    spm.SentencePieceTrainer.train(input=CORPUS, model_prefix=prefix, vocab_size=300, pad_id=0, unk_id=1,
                                   bos_id=-1, eos_id=-1, user_defined_symbols=["[CLS]", "[SEP]", "[MASK]"],
                                   pad_piece="[PAD]", unk_piece="[UNK]", minloglevel=2)
    vocab, tok = load_vocab_and_tokenizer(Namespace(spm_model_path=prefix + ".model", vocab_path=None,
                                                    tokenizer="bert"))
    assert len(vocab) == 300 and vocab.get("[MASK]") is not None
    pieces = tok.tokenize("这本书非常精彩")
    assert "".join(pieces).replace("\u2581", "") == "这本书非常精彩"
    assert tok.encode("这本书") == [vocab.get(p) for p in tok.tokenize("这本书")]


def test_vocab_without_special_tokens_is_rejected(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("[PAD]\n[UNK]\nhello\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"lacks the special token\(s\) \[CLS\], \[SEP\], \[MASK\]"):
        Vocab.load(str(path))
