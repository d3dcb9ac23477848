#!/usr/bin/env python3
"""Continue a text with a model pre-trained with --target lm (GPT, a LLaMA-style decoder, or a causal
LSTM/CNN): the text of --input_path is extended by --max_new_tokens tokens (default: to --seq_length tokens
in all), or until the end token ([SEP]; a HuggingFace tokenizer's end-of-sequence token), and written to
--output_path. Transformer decoders keep the keys and values of earlier positions (one token's work per step).

Decoding: greedy with --top_k 1 (the default); otherwise sampling from the --temperature-scaled distribution
cut to the --top_k most likely tokens and to the smallest set holding --top_p of the probability."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import generation_parser, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    return generation_parser(__doc__)


def generation_limit(args, prompt):
    """The text's length when generation stops: --seq_length, or the beginning + --max_new_tokens, which must
    stay within it (--seq_length bounds the whole text either way)."""
    from uer.core.errors import UserInputError
    if args.max_new_tokens is not None and args.max_new_tokens < 1:
        raise UserInputError("--max_new_tokens must be at least 1")
    if prompt >= args.seq_length:
        raise UserInputError(f"{args.input_path}: the beginning has {prompt} tokens, not fewer than "
                             f"--seq_length {args.seq_length}")
    if args.max_new_tokens is None:
        return args.seq_length
    if prompt + args.max_new_tokens > args.seq_length:
        raise UserInputError(f"--max_new_tokens {args.max_new_tokens} after a beginning of {prompt} tokens passes "
                             f"--seq_length {args.seq_length}; raise --seq_length or lower --max_new_tokens")
    return prompt + args.max_new_tokens


def main(argv=None):
    args = parse(build_parser(), argv)
    import torch
    from uer.generation.decoder_only import Decoder
    from uer.generation.search import next_token
    from uer.runtime.runtime import place
    from uer.model_builder import build_for_probing
    from uer.core.constants import CLS_TOKEN, SEP_TOKEN
    from uer.core.errors import UserInputError
    from uer.core.fileutil import atomic_open
    from uer.core.readers import read_text
    from uer.text.tokenizers import load_vocab_and_tokenizer
    from uer.text.hf_tokenizer import HfTokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args, padding=False)
    text = read_text(args.input_path, "input").strip()
    if not text:
        raise UserInputError(f"{args.input_path}: empty; it holds the beginning of the text to continue")
    hf = isinstance(tokenizer, HfTokenizer)  # its own special tokens, as transformers would add them
    ids = tokenizer.hf.encode(text).ids if hf else [vocab.get(CLS_TOKEN)] + tokenizer.encode(text)
    limit = generation_limit(args, len(ids))
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path, target="lm"), parallel=False)
    generator = torch.Generator().manual_seed(args.seed)
    start, end = len(ids), vocab.get(SEP_TOKEN)
    step = Decoder(model, device)
    with torch.no_grad():
        while len(ids) < limit:
            token = next_token(model.target.word_logits(step(ids)).cpu(), args.top_k, args.top_p, args.temperature,
                               generator)
            if token == end:
                break
            ids.append(token)
    result = tokenizer.hf.decode(ids, skip_special_tokens=True) if hf else text + tokenizer.decode(ids[start:])
    with atomic_open(args.output_path, "w") as f:
        f.write(result + "\n")
    print(f"wrote {args.output_path}: {len(ids) - start} tokens generated")


if __name__ == "__main__":
    run_main(main)
