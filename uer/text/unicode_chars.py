"""Character classes of Google BERT's tokenizer (shared by the tokenizer and its CJK fast path)."""
import unicodedata

# CJK Unified Ideographs blocks, then the compatibility blocks (which NFD maps onto other ideographs).
CJK_UNIFIED = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
               (0x2B820, 0x2CEAF))
CJK_COMPATIBILITY = ((0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_chinese_char(cp):
    return any(lo <= cp <= hi for lo, hi in CJK_UNIFIED + CJK_COMPATIBILITY)
