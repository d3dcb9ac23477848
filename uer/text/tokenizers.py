"""Tokenizers: bert (Google basic + WordPiece), char, space, and sentencepiece.

`BertTokenizer` runs on the Rust `tokenizers` library when it is installed (configured to reproduce Google
BERT exactly) and falls back to the pure-Python port of Google's tokenization.py below otherwise.
"""
import unicodedata
from argparse import Namespace

from uer.core.constants import UNK_TOKEN
from uer.text.cjk_fast_path import BoundaryChars
from uer.text.unicode_chars import is_chinese_char, is_control, is_punctuation, is_whitespace
from uer.core.errors import UserInputError
from uer.text.vocab import Vocab


class BasicTokenizer:
    """Google BERT's BasicTokenizer: clean, split CJK characters, lower-case/strip accents, split punctuation."""

    def __init__(self, do_lower_case=True):
        self.do_lower_case = do_lower_case

    def tokenize(self, text):
        text = self._clean_text(text)
        text = self._tokenize_chinese_chars(text)
        out = []
        for token in text.strip().split():
            if self.do_lower_case:
                token = self._strip_accents(token.lower())
            out.extend(self._split_on_punc(token))
        return " ".join(out).strip().split()

    @staticmethod
    def _strip_accents(text):
        return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")

    @staticmethod
    def _split_on_punc(text):
        pieces, start_new = [], True
        for ch in text:
            if is_punctuation(ch):
                pieces.append([ch])
                start_new = True
            else:
                if start_new:
                    pieces.append([])
                start_new = False
                pieces[-1].append(ch)
        return ["".join(p) for p in pieces]

    @staticmethod
    def _tokenize_chinese_chars(text):
        return "".join(f" {ch} " if is_chinese_char(ord(ch)) else ch for ch in text)

    @staticmethod
    def _clean_text(text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or is_control(ch):
                continue
            out.append(" " if is_whitespace(ch) else ch)
        return "".join(out)


# UER-py's WordPiece turns words longer than 200 characters into [UNK] (Google's BERT: 100).
MAX_WORD_CHARS = 200


class WordpieceTokenizer:
    """Greedy longest-match-first WordPiece, as in Google BERT (with UER-py's word length limit)."""

    def __init__(self, vocab, unk_token=UNK_TOKEN, max_input_chars_per_word=MAX_WORD_CHARS):
        self.vocab = vocab
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word

    def tokenize(self, text):
        output = []
        for token in text.strip().split():
            if len(token) > self.max_input_chars_per_word:
                output.append(self.unk_token)
                continue
            start, sub_tokens = 0, []
            while start < len(token):
                end, cur = len(token), None
                while start < end:
                    piece = token[start:end]
                    if start > 0:
                        piece = "##" + piece
                    if piece in self.vocab:
                        cur = piece
                        break
                    end -= 1
                if cur is None:
                    sub_tokens = None
                    break
                sub_tokens.append(cur)
                start = end
            output.extend(sub_tokens if sub_tokens is not None else [self.unk_token])
        return output


class Tokenizer:
    def __init__(self, vocab, sp_model=None):
        self.vocab = vocab
        self.sp_model = sp_model

    def tokenize(self, text):
        """Token strings; with a sentencepiece model every tokenizer uses its pieces."""
        if self.sp_model is not None:
            return self.sp_model.encode(text, out_type=str)
        return self._tokenize(text)

    def _tokenize(self, text):
        raise NotImplementedError

    def convert_tokens_to_ids(self, tokens):
        unk = self.vocab.get(UNK_TOKEN)
        return [self.vocab.w2i.get(t, unk) for t in tokens]

    def encode(self, text):
        return self.encode_batch([text])[0]

    def decode(self, ids):
        """Text of ids: sentencepiece's own decoding with a sentencepiece model; else WordPiece continuations (##)
        joined to the token before, and a space between two tokens where the tokenizer had split on one (two
        words; not beside a Chinese character or a punctuation mark)."""
        tokens = [self.vocab.i2w[i] for i in ids]
        if self.sp_model is not None:
            return self.sp_model.decode_pieces(tokens)
        return self._join(tokens)

    def _join(self, tokens):
        out = []
        for t in tokens:
            if t.startswith("##") and out:
                out.append(t[2:])
            else:
                if out and self._spaced(out[-1][-1:], t[:1]):
                    out.append(" ")
                out.append(t)
        return "".join(out)

    @staticmethod
    def _spaced(left, right):
        return bool(left and right) and not any(is_chinese_char(ord(c)) or is_punctuation(c) for c in left + right)

    def encode_batch(self, texts):
        return [self.convert_tokens_to_ids(self.tokenize(t)) for t in texts]

    def encode_batch_offsets(self, texts):
        """Per text (ids, offset of each token's first character, whether it continues the previous token's
        word as a WordPiece ## piece), for whole-word masking; tokens equal those of encode_batch."""
        if self.sp_model is not None:
            raise UserInputError("--whole_word_masking needs token positions in the text, which the bert, char "
                                 "and space tokenizers give and sentencepiece pieces do not; use --vocab_path")
        return self._encode_offsets(texts)

    def _encode_offsets(self, texts):
        raise NotImplementedError


class BertTokenizer(Tokenizer):
    def __init__(self, vocab, sp_model=None, fast=True):
        super().__init__(vocab, sp_model)
        lower = not vocab.is_cased
        self.basic_tokenizer = BasicTokenizer(do_lower_case=lower)
        self.wordpiece_tokenizer = WordpieceTokenizer(vocab.w2i)
        self._fast = _build_fast_wordpiece(vocab, lower) if fast and sp_model is None else None
        self._boundary = BoundaryChars(vocab.w2i, vocab.get(UNK_TOKEN), lower) if self._fast is not None else None

    def _tokenize(self, text):
        return [p for tok in self.basic_tokenizer.tokenize(text) for p in self.wordpiece_tokenizer.tokenize(tok)]

    def encode_batch(self, texts):
        if self._fast is None:
            return super().encode_batch(texts)
        return self._boundary.encode_batch(texts, self._encode_runs)

    def _encode_offsets(self, texts):
        if self._fast is None:
            raise UserInputError("--whole_word_masking with the bert tokenizer needs the tokenizers package: "
                                 "pip install tokenizers")
        return self._boundary.encode_batch_offsets(texts, self._encode_runs_offsets)

    def _encode_runs_offsets(self, texts):
        out = []
        for text, e in zip(texts, self._fast.encode_batch(texts, add_special_tokens=False)):
            if _fast_path_differs(text):
                # Python port: the run's tokens are taken as one word starting where the run starts
                ids = self.convert_tokens_to_ids(self._tokenize(text))
                out.append((ids, [0] * len(ids), [False] + [True] * (len(ids) - 1)))
                continue
            words = e.word_ids
            out.append((e.ids, [o[0] for o in e.offsets],
                        [k > 0 and words[k] == words[k - 1] for k in range(len(words))]))
        return out

    def _encode_runs(self, texts):
        ids = [e.ids for e in self._fast.encode_batch(texts, add_special_tokens=False)]
        for k, text in enumerate(texts):
            if _fast_path_differs(text):
                ids[k] = self.convert_tokens_to_ids(self._tokenize(text))
        return ids


# `tokenizers` drops private-use and unassigned characters as it drops controls; Google BERT keeps them (the
# word holding one becomes [UNK]), so text with them goes through the Python port.
def _fast_path_differs(text):
    return not text.isascii() and any(unicodedata.category(c) in ("Co", "Cn") for c in text)


def _build_fast_wordpiece(vocab, lower):
    """A `tokenizers` pipeline equal to Google BERT's, or None when the library is missing."""
    try:
        from tokenizers import Tokenizer as FastTokenizer, models, normalizers, pre_tokenizers
    except ImportError:
        return None
    fast = FastTokenizer(models.WordPiece(dict(vocab.w2i), unk_token=UNK_TOKEN,
                                                max_input_chars_per_word=MAX_WORD_CHARS))
    fast.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                 strip_accents=lower, lowercase=lower)
    fast.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return fast


class CharTokenizer(Tokenizer):
    def _join(self, tokens):
        return "".join(tokens)

    def _tokenize(self, text):
        return [t if t in self.vocab else UNK_TOKEN for t in text.strip()]

    def _encode_offsets(self, texts):
        out = []
        for text, ids in zip(texts, self.encode_batch(texts)):
            lead = len(text) - len(text.lstrip())
            out.append((ids, list(range(lead, lead + len(ids))), [False] * len(ids)))
        return out


class SpaceTokenizer(Tokenizer):
    def _join(self, tokens):
        return " ".join(tokens)

    def _tokenize(self, text):
        return [t if t in self.vocab else UNK_TOKEN for t in text.strip().split(" ")]

    def _encode_offsets(self, texts):
        out = []
        for text, ids in zip(texts, self.encode_batch(texts)):
            at = len(text) - len(text.lstrip())
            offsets = []
            for piece in text.strip().split(" "):
                offsets.append(at)
                at += len(piece) + 1
            out.append((ids, offsets, [False] * len(ids)))
        return out


str2tokenizer = {"bert": BertTokenizer, "char": CharTokenizer, "space": SpaceTokenizer}


def load_sp_model(path):
    try:
        import sentencepiece as spm
    except ImportError:
        raise UserInputError("--spm_model_path needs the sentencepiece package: pip install sentencepiece") from None
    sp = spm.SentencePieceProcessor()
    try:
        sp.load(path)
    except (OSError, RuntimeError) as e:
        raise UserInputError(f"{path}: not a readable sentencepiece model ({e})") from None
    return sp


def load_vocab(args, padding=True):
    """(vocab, sentencepiece model or None) from --tokenizer_path, --spm_model_path or --vocab_path."""
    if getattr(args, "tokenizer_path", None):
        from uer.text.hf_tokenizer import load_hf
        return load_hf(args.tokenizer_path, padding)[0], None
    if getattr(args, "merges_path", None):
        from uer.text.bpe import load_bpe
        return load_bpe(args.vocab_path, args.merges_path, padding)[0], None
    if getattr(args, "tokenizer", None) == "xlmroberta":
        from uer.text.xlmroberta import load_xlmroberta
        vocab, tokenizer = load_xlmroberta(getattr(args, "spm_model_path", None))
        return vocab, tokenizer.sp_model
    if getattr(args, "spm_model_path", None):
        sp_model = load_sp_model(args.spm_model_path)
        return Vocab.from_spm(sp_model, args.spm_model_path), sp_model
    if getattr(args, "vocab_path", None):
        return Vocab.load(args.vocab_path), None
    raise UserInputError("no vocabulary given: pass --vocab_path (or --spm_model_path)")


def load_vocab_and_tokenizer(args, padding=True):
    """Vocab and tokenizer from --vocab_path / --spm_model_path / --tokenizer (hf: --tokenizer_path).
    padding: the caller pads batches with id 0 (see uer/text/hf_tokenizer.py)."""
    kind, hf_path = getattr(args, "tokenizer", "bert"), getattr(args, "tokenizer_path", None)
    if (kind == "hf") != bool(hf_path):
        raise UserInputError("--tokenizer hf and --tokenizer_path go together: the HuggingFace tokenizer.json is "
                             "the tokenizer and its vocabulary")
    if kind == "hf":
        from uer.text.hf_tokenizer import load_hf
        return load_hf(hf_path, padding)
    if (kind == "bpe") != bool(getattr(args, "merges_path", None)):
        raise UserInputError("--tokenizer bpe and --merges_path go together: GPT-2's vocab.json (--vocab_path) and "
                             "merges.txt")
    if kind == "bpe":
        from uer.text.bpe import load_bpe
        return load_bpe(args.vocab_path, args.merges_path, padding)
    if kind == "xlmroberta":
        from uer.text.xlmroberta import load_xlmroberta
        return load_xlmroberta(getattr(args, "spm_model_path", None))
    vocab, sp_model = load_vocab(args)
    return vocab, str2tokenizer[kind](vocab, sp_model)


def target_tokenizer_args(args):
    """Arguments of load_vocab_and_tokenizer for the target side (--tgt_vocab_path / --tgt_spm_model_path /
    --tgt_tokenizer), or None when the target shares the source's vocabulary."""
    vocab_path, spm_path = getattr(args, "tgt_vocab_path", None), getattr(args, "tgt_spm_model_path", None)
    if not (vocab_path or spm_path):
        return None
    if getattr(args, "tokenizer", "bert") == "hf":
        raise UserInputError("--tgt_vocab_path/--tgt_spm_model_path go with the bert, char and space tokenizers; "
                             "a HuggingFace tokenizer covers both sides")
    return {"vocab_path": vocab_path, "spm_model_path": spm_path, "tokenizer_path": None,
            "tokenizer": getattr(args, "tgt_tokenizer", None) or getattr(args, "tokenizer", "bert")}


def load_tgt_vocab(args):
    """The target vocabulary, or None when the target shares the source's."""
    tgt = target_tokenizer_args(args)
    return load_vocab(Namespace(**tgt))[0] if tgt else None


def load_target_tokenizer(args, vocab, tokenizer):
    """(vocab, tokenizer) of the target side: its own with --tgt_vocab_path / --tgt_spm_model_path, else the
    source's."""
    tgt = target_tokenizer_args(args)
    if tgt is None:
        if getattr(args, "tgt_tokenizer", None):
            raise UserInputError("--tgt_tokenizer goes with --tgt_vocab_path or --tgt_spm_model_path")
        return vocab, tokenizer
    return load_vocab_and_tokenizer(Namespace(**tgt))
