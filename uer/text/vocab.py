import hashlib

from uer.core.constants import SPECIAL_TOKENS, PAD_TOKEN
from uer.core.errors import UserInputError
from uer.core.readers import read_lines


class Vocab:
    """Token <-> id mapping read from a one-token-per-line file or a sentencepiece model."""

    def __init__(self, tokens, source):
        self.i2w = list(tokens)
        self.w2i = {}
        for i, w in enumerate(self.i2w):
            self.w2i.setdefault(w, i)
        self.source = source
        missing = [t for t in SPECIAL_TOKENS if t not in self.w2i]
        if missing:
            raise UserInputError(f"{source}: vocabulary lacks the special token(s) {', '.join(missing)}; "
                                 f"expected one token per line including {', '.join(SPECIAL_TOKENS)}")
        if self.w2i[PAD_TOKEN] != 0:
            raise UserInputError(f"{source}: {PAD_TOKEN} must be the first entry (id 0), "
                                 f"found it at line {self.w2i[PAD_TOKEN] + 1}")

    @classmethod
    def load(cls, path):
        tokens = read_lines(path, "vocabulary")
        if not tokens:
            raise UserInputError(f"{path}: vocabulary file is empty")
        # Vocab files sometimes carry a second column (counts); the token is the first field.
        tokens = [t.split("\t")[0] if "\t" in t else t for t in tokens]
        return cls(tokens, path)

    @classmethod
    def from_spm(cls, sp_model, path):
        return cls([sp_model.id_to_piece(i) for i in range(sp_model.get_piece_size())], path)

    def get(self, word, default=None):
        return self.w2i.get(word, default)

    def __len__(self):
        return len(self.i2w)

    def __contains__(self, word):
        return word in self.w2i

    @property
    def fingerprint(self):
        return hashlib.sha1("\n".join(self.i2w).encode("utf-8")).hexdigest()

    @property
    def is_cased(self):
        """True when the vocab holds upper-case word pieces (e.g. Google's cased English vocab).

        Uncased vocabs (Google's Chinese and uncased English ones) get lower-casing and accent stripping.
        """
        for t in self.i2w:
            if t[:1] in "[<" and t[-1:] in "]>":
                continue
            if t != t.lower():
                return True
        return False
