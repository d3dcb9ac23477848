"""Word segmenters for whole-word masking: each cuts a line into words that cover it exactly.

- "jieba": Chinese words by jieba's dictionary and HMM, through rjieba (jieba-rs, the same dictionary and
  algorithm in Rust; measured in docs/preprocess.md, "Whole-word masking"). --user_dict_path adds words in jieba's
  user-dictionary format: "word [frequency] [tag]" per line.
- "space": the corpus is already segmented; a word is a run of non-space characters.
"""
import itertools
import re

import numpy as np

from uer.core.errors import UserInputError, fail_at
from uer.core.readers import read_lines

SEGMENTERS = ("jieba", "space")


class SpaceSegmenter:
    pieces = re.compile(r"\S+|\s+")

    def word_lengths(self, texts):
        return [[len(p) for p in self.pieces.findall(t)] for t in texts]


class JiebaSegmenter:
    def __init__(self, user_dict_path=None):
        try:
            import rjieba
        except ImportError:
            raise UserInputError("--segmenter jieba needs the rjieba package: pip install rjieba") from None
        self.jieba = rjieba.Jieba()
        if user_dict_path:
            load_user_dict(self.jieba, user_dict_path)

    def word_lengths(self, texts):
        cut = self.jieba.cut
        return [list(map(len, cut(t))) for t in texts]


def load_user_dict(jieba, path):
    """Add the words of a jieba user dictionary ("word [frequency] [tag]" per line, UTF-8)."""
    for number, line in enumerate(read_lines(path, "user dictionary"), 1):
        fields = line.strip().split()
        if not fields:
            continue
        if len(fields) > 3 or (len(fields) > 1 and not fields[1].isdigit()):
            fail_at(path, number, "expected 'word [frequency] [tag]' (jieba's user-dictionary format)")
        freq = int(fields[1]) if len(fields) > 1 else None
        jieba.add_word(fields[0], freq, fields[2] if len(fields) > 2 else None)


def load_segmenter(name, user_dict_path=None):
    if name == "space":
        if user_dict_path:
            raise UserInputError("--user_dict_path applies to --segmenter jieba, not space")
        return SpaceSegmenter()
    return JiebaSegmenter(user_dict_path)


def encode_with_word_starts(tokenizer, segmenter, texts):
    """Token ids per text (those of tokenizer.encode_batch) and a uint8 array per text, 1 where a token starts
    a word: the segmenter's word holding its first character differs from the previous token's, and it is not
    a WordPiece ## piece (a piece belongs to its word even where the segmenter cut inside it)."""
    encoded = tokenizer.encode_batch_offsets(texts)
    words = segmenter.word_lengths(texts)
    chars = np.fromiter(map(len, texts), np.int64, len(texts))
    word_chars = [sum(w) for w in words]
    for text, covered in zip(texts, word_chars):
        if covered != len(text):
            raise RuntimeError(f"the segmenter covered {covered} of {len(text)} characters of {text[:50]!r}")
    total_chars = int(chars.sum())
    word_start = np.zeros(total_chars + 1, dtype=np.int64)
    word_start[0] = 1
    word_start[np.cumsum(list(itertools.chain.from_iterable(words)), dtype=np.int64)] = 1
    word_of_char = np.cumsum(word_start[:total_chars])
    counts = [len(ids) for ids, _, _ in encoded]
    total = sum(counts)
    offsets = np.fromiter(itertools.chain.from_iterable(o for _, o, _ in encoded), np.int64, total)
    offsets += np.repeat(np.cumsum(chars) - chars, counts)
    continued = np.fromiter(itertools.chain.from_iterable(c for _, _, c in encoded), bool, total)
    word = word_of_char[offsets]
    starts = np.ones(total, dtype=np.uint8)
    starts[1:] = word[1:] != word[:-1]
    starts[continued] = 0
    return [ids for ids, _, _ in encoded], np.split(starts, np.cumsum(counts)[:-1])
