#!/usr/bin/env python3
"""Perplexity of a text file under a decoder model (--target lm), by HF's sliding-window method: windows of
--seq_length tokens every --stride tokens, each scoring the tokens the previous one did not reach with the
context before them (stride = seq_length: disjoint windows). The whole file is one text, tokenized as the
tokenizer does (a HuggingFace tokenizer adds its own special tokens; otherwise [CLS] begins it). Prints the
perplexity, the mean negative log-likelihood and the number of scored tokens."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import probing_opts  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    probing_opts(parser, files=False, seq_length=1024)
    parser.add_argument("--input_path", required=True, help="The text (UTF-8).")
    parser.add_argument("--stride", type=int, default=512, help="Tokens between window starts.")
    parser.add_argument("--target", choices=["lm"], default="lm")
    return parser


def main(argv=None):
    from uer.opts import parse
    args = parse(build_parser(), argv)
    from uer.core.constants import CLS_TOKEN
    from uer.core.errors import UserInputError
    from uer.core.readers import read_text
    from uer.evaluation.perplexity import perplexity
    from uer.model_builder import build_for_probing
    from uer.runtime.runtime import place
    from uer.text.hf_tokenizer import HfTokenizer
    from uer.text.tokenizers import load_vocab_and_tokenizer
    if not 1 <= args.stride <= args.seq_length:
        raise UserInputError(f"--stride must be between 1 and --seq_length ({args.seq_length}), not {args.stride}")
    vocab, tokenizer = load_vocab_and_tokenizer(args, padding=False)
    text = read_text(args.input_path, "input")
    hf = isinstance(tokenizer, HfTokenizer)
    ids = tokenizer.hf.encode(text).ids if hf else [vocab.get(CLS_TOKEN)] + tokenizer.encode(text)
    if len(ids) < 2:
        raise UserInputError(f"{args.input_path}: fewer than two tokens; nothing to score")
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path, target="lm"), parallel=False)
    ppl, nll, scored = perplexity(model, ids, args.seq_length, args.stride, device)
    print(f"perplexity {ppl:.4f} | mean nll {nll:.6f} | {scored} tokens scored of {len(ids)} "
          f"(window {args.seq_length}, stride {args.stride})")


if __name__ == "__main__":
    run_main(main)
