"""Characters of each vocabulary word, for subword composition (--subword_type char)."""
import torch

from uer.core.constants import SPECIAL_TOKENS, UNK_TOKEN

MAX_CHARS = 16


def word_characters(word):
    """The characters a word is spelt with: WordPiece's '##' and sentencepiece's '▁' are markers, and
    special tokens ([CLS], <s>, ...) have none."""
    if word in SPECIAL_TOKENS or (len(word) > 2 and word[0] + word[-1] in ("[]", "<>")):
        return ""
    if word.startswith("##") and len(word) > 2:
        word = word[2:]
    return word.lstrip("\u2581")


def char_table(vocab, sub_vocab, max_chars=MAX_CHARS):
    """LongTensor [len(vocab), max_chars]: sub-vocabulary ids of each word's first characters, 0 after them.

    Characters missing from the sub-vocabulary map to its [UNK].
    """
    unk = sub_vocab.get(UNK_TOKEN)
    table = torch.zeros(len(vocab), max_chars, dtype=torch.long)
    for i, word in enumerate(vocab.i2w):
        chars = word_characters(word)[:max_chars]
        if chars:
            table[i, :len(chars)] = torch.tensor([sub_vocab.get(c, unk) for c in chars])
    return table
