#!/usr/bin/env python3
"""Writes the tiny chat tokenizer shipped here (tokenizer.json, tokenizer_config.json): byte-level, one token per
UTF-8 byte (no merges), with ChatML's special tokens and template; for the samples and tests of the decoder
workflow (docs/decoders.md). Run from this folder to re-create it."""
import json
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from tokenizers.pre_tokenizers import ByteLevel

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def main(folder=os.path.dirname(os.path.abspath(__file__))):
    alphabet = sorted(ByteLevel.alphabet())
    vocab = {token: i for i, token in enumerate(SPECIALS + alphabet)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(SPECIALS)
    tokenizer.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(os.path.dirname(folder), "chatml.jinja"), encoding="utf-8") as f:
        template = f.read().rstrip("\n")
    config = {"bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
              "tokenizer_class": "PreTrainedTokenizerFast", "chat_template": template,
              "model_max_length": 2048}
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
