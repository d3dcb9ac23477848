"""A HuggingFace tokenizer (tokenizer.json, run by the `tokenizers` library) as a vocabulary and tokenizer of
this toolkit: --tokenizer hf --tokenizer_path tokenizer.json. A converted LLaMA/Qwen2/Mistral model then reads
and writes text as it did in transformers.

The toolkit's special tokens are the tokenizer's own: [CLS] stands for its begin-of-sequence token (its
end-of-sequence token when it has none, as Qwen2), [SEP] for its end-of-sequence token, [UNK] and [MASK] for
its unknown and mask tokens where it has them. Batches are padded with id 0, so id 0 must be a special
token (LLaMA's <unk>); generation pads nothing and takes any tokenizer.
"""
import json
import os

from uer.core.constants import CLS_TOKEN, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN, UNK_TOKEN
from uer.core.errors import UserInputError
from uer.text.vocab import Vocab

GUESSES = {"bos_token": ("<s>", "<|begin_of_text|>", "<|startoftext|>"),
           "eos_token": ("</s>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>"),
           "unk_token": ("<unk>", "[UNK]"), "mask_token": ("<mask>", "[MASK]"), "pad_token": ("<pad>", "[PAD]")}


def load_tokenizer_file(path):
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise UserInputError("--tokenizer hf needs the tokenizers package: pip install tokenizers") from None
    try:
        return Tokenizer.from_file(path)
    except FileNotFoundError:
        raise UserInputError(f"{path}: tokenizer file not found") from None
    except Exception as e:  # noqa: BLE001 -- the Rust library raises a plain Exception for bad files
        raise UserInputError(f"{path}: not a HuggingFace tokenizer.json ({e})") from None


def tokenizer_config(path):
    """(the path of the tokenizer_config.json beside the tokenizer file `path`, its content or {} where there is
    none)."""
    config_path = os.path.join(os.path.dirname(os.path.abspath(path)), "tokenizer_config.json")
    if not os.path.exists(config_path):
        return config_path, {}
    with open(config_path, encoding="utf-8") as f:
        return config_path, json.load(f)


def declared_specials(config, keys):
    """{key: token} of the special tokens among `keys` that a tokenizer_config.json declares (as a string or as an
    added token's content)."""
    out = {}
    for key in keys:
        value = config.get(key)
        value = value.get("content") if isinstance(value, dict) else value
        if isinstance(value, str):
            out[key] = value
    return out


class HfVocab(Vocab):
    def __init__(self, tokenizer, path, padding=True):
        self.i2w = [tokenizer.id_to_token(i) for i in range(tokenizer.get_vocab_size(with_added_tokens=True))]
        self.w2i = {w: i for i, w in enumerate(self.i2w) if w is not None}
        self.source = path
        declared = declared_specials(tokenizer_config(path)[1], GUESSES)
        ids = {}
        for role, guesses in GUESSES.items():
            token = declared.get(role) or next((g for g in guesses if g in self.w2i), None)
            ids[role] = self.w2i.get(token)
        ids["bos_token"] = ids["bos_token"] if ids["bos_token"] is not None else ids["eos_token"]
        self.roles = {CLS_TOKEN: ("begin-of-sequence", ids["bos_token"]),
                      SEP_TOKEN: ("end-of-sequence", ids["eos_token"]),
                      UNK_TOKEN: ("unknown", ids["unk_token"]), MASK_TOKEN: ("mask", ids["mask_token"]),
                      PAD_TOKEN: ("padding", 0)}
        specials = {t.content for t in tokenizer.get_added_tokens_decoder().values() if t.special}
        if padding and self.i2w[0] not in specials and self.i2w[0] not in GUESSES["unk_token"] + GUESSES["pad_token"]:
            raise UserInputError(f"{path}: id 0 is {self.i2w[0]!r}, a real token, and batches here are padded with "
                                 "id 0; this tokenizer can be used for generation only")

    def get(self, word, default=None):
        if word in self.roles:
            role, i = self.roles[word]
            if i is None:
                raise UserInputError(f"{self.source}: the tokenizer has no {role} token, which {word} stands for here")
            return i
        return self.w2i.get(word, default)

    def __contains__(self, word):
        return word in self.w2i or (word in self.roles and self.roles[word][1] is not None)

    @property
    def is_cased(self):
        return True


class HfTokenizer:
    """encode / encode_batch / tokenize / decode with the tokenizer's own pre-tokenizer and model, without
    adding its special tokens (the toolkit adds [CLS] and [SEP] where its formats have them)."""

    def __init__(self, tokenizer, vocab):
        self.hf, self.vocab, self.sp_model = tokenizer, vocab, None

    def tokenize(self, text):
        return self.hf.encode(text, add_special_tokens=False).tokens

    def convert_tokens_to_ids(self, tokens):
        return [self.vocab.w2i.get(t, self.vocab.get(UNK_TOKEN)) for t in tokens]

    def encode(self, text):
        return self.hf.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts):
        return [e.ids for e in self.hf.encode_batch(list(texts), add_special_tokens=False)]

    def encode_batch_offsets(self, texts):
        raise UserInputError("--whole_word_masking needs the bert, char or space tokenizer, not --tokenizer hf")

    def decode(self, ids):
        return self.hf.decode(ids)


def load_hf(path, padding=True):
    tokenizer = load_tokenizer_file(path)
    vocab = HfVocab(tokenizer, path, padding)
    return vocab, HfTokenizer(tokenizer, vocab)
