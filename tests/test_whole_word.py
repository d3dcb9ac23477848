"""Whole-word masking: word boundaries (jieba, space, WordPiece pieces), selection and 80/10/10 per word,
static and dynamic, determinism across --processes_num, and the refusals."""
import filecmp
import os

import numpy as np
import pytest

import preprocess
from uer.data.dataset_io import DatasetFile
from uer.core.errors import UserInputError
from uer.data.targets import str2data
from uer.data.instances import assemble, assemble_word_starts, layout_positions
from uer.data.masking import mask_matrix
from uer.data.pretrain_data import PretrainDataset
from uer.text.segmenters import encode_with_word_starts, load_segmenter
from uer.text.tokenizers import BertTokenizer
from uer.text.vocab import Vocab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "corpora", "book_review_bert.txt")
VOCAB = os.path.join(ROOT, "models", "reviews_vocab.txt")

pytest.importorskip("rjieba")


def run_preprocess(tmp_path, name, *extra, corpus=CORPUS, vocab=VOCAB):
    path = str(tmp_path / name)
    preprocess.main(["--corpus_path", corpus, "--vocab_path", vocab, "--dataset_path", path, "--dup_factor", "1",
                     "--whole_word_masking", *extra])
    return path


def words_of(starts_row, candidate_row):
    """Lists of positions, one per word of candidate tokens (a non-candidate token ends a word)."""
    words, current = [], []
    for pos, (start, cand) in enumerate(zip(starts_row, candidate_row)):
        if current and (start or not cand):
            words.append(current)
            current = []
        if cand:
            current.append(pos)
    return words + ([current] if current else [])


def check_whole_words(ids, masked, chosen, starts, special, mask_id):
    """Every property of whole-word masking over a matrix of instances; returns (masked share, [MASK] words share)."""
    candidate = ~np.isin(ids, special)
    assert not (chosen & ~candidate).any(), "a special token was chosen"
    words_masked = words_as_mask = 0
    for row in range(len(ids)):
        for word in words_of(starts[row], candidate[row]):
            picked = chosen[row, word]
            assert picked.all() or not picked.any(), f"word {word} of row {row} partly chosen"
            if picked.any():
                words_masked += 1
                as_mask = masked[row, word] == mask_id
                assert as_mask.all() or not as_mask.any(), "two replacement modes in one word"
                words_as_mask += as_mask.all()
    assert (masked[~chosen] == ids[~chosen]).all()
    return chosen.sum() / candidate.sum(), words_as_mask / words_masked


def test_word_starts_follow_jieba_on_chinese_lines():
    jieba = pytest.importorskip("jieba")
    vocab = Vocab.load(VOCAB)
    with open(CORPUS, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()][:2000]
    ids, starts = encode_with_word_starts(BertTokenizer(vocab), load_segmenter("jieba"), lines)
    assert ids == BertTokenizer(vocab).encode_batch(lines), "whole-word masking must not change the tokens"
    compared = 0
    for line, line_ids, line_starts in zip(lines, ids, starts):
        if len(line_ids) != len(line) or " " in line:
            continue  # the reference below needs one token per character
        reference = np.zeros(len(line), dtype=np.uint8)
        reference[np.cumsum([0] + [len(w) for w in jieba.cut(line)][:-1])] = 1
        assert (line_starts == reference).all(), line
        compared += 1
    assert compared > 1500


def test_wordpiece_pieces_stay_in_their_word_and_space_segmenter():
    vocab = Vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##bel", "##iev", "##ably", "good", "我",
                   "们", "喜", "欢"], "test")
    tokenizer = BertTokenizer(vocab)
    ids, starts = encode_with_word_starts(tokenizer, load_segmenter("space"), ["unbelievably good 我们 喜欢"])
    assert [vocab.i2w[i] for i in ids[0]] == ["un", "##bel", "##iev", "##ably", "good", "我", "们", "喜", "欢"]
    assert starts[0].tolist() == [1, 0, 0, 0, 1, 1, 0, 1, 0]
    # jieba cuts "unbelievably" nowhere, but a segmenter cutting inside a WordPiece word never splits it
    ids, starts = encode_with_word_starts(tokenizer, load_segmenter("jieba"), ["unbelievably我们喜欢"])
    assert starts[0].tolist()[:4] == [1, 0, 0, 0]


def test_user_dictionary_joins_words(tmp_path):
    text = ["李小福是创新办主任也是云计算方面的专家"]
    vocab = Vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(text[0])), "test")
    plain = encode_with_word_starts(BertTokenizer(vocab), load_segmenter("jieba"), text)[1][0]
    user_dict = tmp_path / "dict.txt"
    user_dict.write_text("创新办 3 i\n云计算\n", encoding="utf-8")
    joined = encode_with_word_starts(BertTokenizer(vocab), load_segmenter("jieba", str(user_dict)), text)[1][0]
    at = text[0].index("创新办")
    assert plain[at:at + 3].tolist() == [1, 0, 1] and joined[at:at + 3].tolist() == [1, 0, 0]
    user_dict.write_text("创新办 x y z\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"dict.txt:1: expected 'word \[frequency\] \[tag\]'"):
        load_segmenter("jieba", str(user_dict))


def test_choose_words_covers_budget_with_whole_words():
    rng = np.random.default_rng(0)
    n, length = 2000, 128
    ids = rng.integers(5, 600, size=(n, length))
    ids[:, 0], ids[:, 64], ids[:, -1] = 2, 3, 3
    starts = rng.random((n, length)) < 0.55
    special = np.array([0, 1, 2, 3, 4])
    masked, chosen = mask_matrix(ids, ~np.isin(ids, special), rng, 600, 4, special, word_start=starts)
    share, as_mask = check_whole_words(ids, masked, chosen, starts, special, 4)
    assert abs(share - 0.15) < 0.01 and abs(as_mask - 0.8) < 0.02


def test_static_dataset_masks_whole_words_and_is_the_same_for_any_processes_num(tmp_path):
    one = run_preprocess(tmp_path, "one.pt", "--processes_num", "1", "--docs_buffer_size", "2000")
    two = run_preprocess(tmp_path, "two.pt", "--processes_num", "2", "--docs_buffer_size", "2000")
    assert filecmp.cmp(one, two, shallow=False)
    data = DatasetFile(one)
    h, a = data.header, data.arrays
    assert h["whole_word_masking"] and h["segmenter"] == "jieba" and h["static_masking"]
    inst = {k: np.asarray(a[k]) for k in ("a_start", "a_len", "b_start", "b_len", "label")}
    ids, _ = assemble(np.asarray(a["tokens"]), inst, "pair", h["cls_id"], h["sep_id"])
    starts = assemble_word_starts(np.asarray(a["word_start"]), layout_positions(inst, "pair"))
    offsets = np.concatenate([[0], np.cumsum(a["mask_count"])])
    chosen, masked = np.zeros(ids.shape, bool), ids.copy()
    for row in range(len(ids)):
        pos = np.asarray(a["mask_pos"][offsets[row]:offsets[row + 1]], dtype=np.int64)
        chosen[row, pos] = True
        masked[row, pos] = a["mask_tok"][offsets[row]:offsets[row + 1]]
    assert len(ids) > 5000
    share, as_mask = check_whole_words(ids, masked, chosen, starts, np.array(h["special_ids"]), h["mask_id"])
    assert abs(share - 0.15) < 0.01 and abs(as_mask - 0.8) < 0.02


def test_dynamic_whole_word_masks_per_batch(tmp_path):
    path = run_preprocess(tmp_path, "dyn.pt", "--dynamic_masking", "--target", "mlm", "--full_sentences")
    dataset = PretrainDataset(path)
    dataset.check("mlm", Vocab.load(VOCAB))
    h = dataset.header
    indices = np.arange(min(len(dataset), 600))
    src, tgt, _ = dataset.batch(indices, epoch=0)
    inst = dataset.instances(indices)
    ids, _ = assemble(dataset.arrays["tokens"], inst, "raw", h["cls_id"], h["sep_id"])
    starts = assemble_word_starts(dataset.arrays["word_start"], layout_positions(inst, "raw"))
    chosen = tgt["mlm"] > 0
    share, as_mask = check_whole_words(ids, src, chosen, starts, np.array(h["special_ids"]), h["mask_id"])
    assert abs(share - 0.15) < 0.01 and abs(as_mask - 0.8) < 0.04
    again, _, _ = dataset.batch(indices, epoch=0)
    other, _, _ = dataset.batch(indices, epoch=1)
    assert (again == src).all() and (other != src).any()


def test_space_segmenter_on_a_segmented_corpus(tmp_path):
    corpus = tmp_path / "segmented.txt"
    corpus.write_text("我们 喜欢 北京 天安门 。\n今天 天气 很 好 。\n\n他们 去 学校 读书 。\n大家 都 很 高兴 。\n",
                      encoding="utf-8")
    vocab = tmp_path / "vocab.txt"
    chars = sorted(set(corpus.read_text(encoding="utf-8")) - {" ", "\n"})
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars) + "\n", encoding="utf-8")
    path = run_preprocess(tmp_path, "space.pt", "--segmenter", "space", corpus=str(corpus), vocab=str(vocab))
    data = DatasetFile(path)
    assert np.asarray(data.arrays["word_start"])[:12].tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0]
    assert data.header["segmenter"] == "space"


@pytest.mark.parametrize("extra, message", [
    (["--span_masking"], "exclude each other"),
    (["--target", "lm"], "applies to masked-LM targets"),
])
def test_refusals_at_preprocessing(tmp_path, extra, message):
    with pytest.raises(UserInputError, match=message):
        run_preprocess(tmp_path, "bad.pt", *extra)
    assert not os.path.exists(tmp_path / "bad.pt")


def test_segmenter_without_whole_word_masking_is_refused(tmp_path):
    with pytest.raises(UserInputError, match="apply with --whole_word_masking"):
        preprocess.main(["--corpus_path", CORPUS, "--vocab_path", VOCAB, "--dataset_path", str(tmp_path / "x.pt"),
                         "--segmenter", "space"])


def test_pretrain_refuses_a_mismatch(tmp_path):
    plain = str(tmp_path / "plain.pt")
    preprocess.main(["--corpus_path", CORPUS, "--vocab_path", VOCAB, "--dataset_path", plain, "--dup_factor", "1",
                     "--dynamic_masking"])
    vocab = Vocab.load(VOCAB)
    with pytest.raises(UserInputError, match="no word boundaries; run preprocess.py with --dynamic_masking "
                                             "--whole_word_masking"):
        PretrainDataset(plain).check("bert", vocab, whole_word_masking=True)
    wwm = run_preprocess(tmp_path, "wwm.pt", "--dynamic_masking")
    with pytest.raises(UserInputError, match="excludes --span_masking"):
        PretrainDataset(wwm).check("bert", vocab, span_masking=True)
    assert str2data["bert"].masked


def test_missing_segmenter_package_says_how_to_get_it(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "rjieba", None)
    with pytest.raises(UserInputError, match="pip install rjieba"):
        load_segmenter("jieba")
