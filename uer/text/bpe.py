"""--tokenizer bpe (TencentPretrain's name): GPT-2's byte-level BPE from its vocab.json (--vocab_path) and
merges.txt (--merges_path), run by the `tokenizers` library as transformers' GPT2TokenizerFast runs it (GPT-2's
pre-tokenizing pattern, no prefix space). Its vocabulary and special tokens are then those of a HuggingFace
tokenizer here (uer/text/hf_tokenizer.py: [CLS] and [SEP] stand for <|endoftext|>)."""
import json

from uer.core.errors import UserInputError


def load_bpe(vocab_path, merges_path, padding=True):
    from uer.text.hf_tokenizer import HfTokenizer, HfVocab
    try:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    except ImportError:
        raise UserInputError("--tokenizer bpe needs the tokenizers package: pip install tokenizers") from None
    if not vocab_path or not vocab_path.endswith(".json"):
        raise UserInputError(f"--tokenizer bpe: --vocab_path {vocab_path} must be GPT-2's vocab.json (with "
                             "--merges_path merges.txt)")
    try:
        with open(vocab_path, encoding="utf-8") as f:
            vocab = json.load(f)
        model = models.BPE.from_file(vocab_path, merges_path)
    except (OSError, ValueError, Exception) as e:  # noqa: BLE001 -- the Rust library raises a plain Exception
        raise UserInputError(f"{vocab_path}, {merges_path}: not a readable GPT-2 vocab.json and merges.txt ({e})") \
            from None
    tokenizer = Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = [t for t in ("<|endoftext|>",) if t in vocab]
    tokenizer.add_special_tokens(specials)
    hf_vocab = HfVocab(tokenizer, vocab_path, padding)
    return hf_vocab, HfTokenizer(tokenizer, hf_vocab)
