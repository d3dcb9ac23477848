#!/usr/bin/env python3
"""Generate a target text for each line of --input_path with an encoder-decoder model (T5, BART; a config with
"decoder"), one output line per input line. The decoder starts from the config's "decoder_start_token_id"
(written by the conversion from HuggingFace; [CLS] otherwise) and stops at the end token ([SEP], or a HF
tokenizer's end-of-sequence token) or after --max_new_tokens. It keeps its self-attention keys and values and
computes the encoder's keys and values once per input.

Decoding: greedy with --top_k 1 (the default); otherwise sampling from the --temperature-scaled distribution cut
to the --top_k most likely tokens and to the smallest set holding --top_p of the probability; with --beam_width B
> 1, beam search as transformers does it (--length_penalty)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import generation_parser, beam_opts, tgt_tokenizer_opts, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = generation_parser(__doc__)
    beam_opts(parser)
    tgt_tokenizer_opts(parser)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    import torch
    from uer.generation.seq2seq import start_and_end, decode_target, sample_one
    from uer.tasks.text2text import encode_sources
    from uer.runtime.runtime import place
    from uer.model_builder import build_for_probing
    from uer.core.errors import UserInputError
    from uer.core.fileutil import atomic_open
    from uer.core.readers import read_lines
    from uer.text.tokenizers import load_vocab_and_tokenizer, load_target_tokenizer
    if not getattr(args, "decoder", None):
        raise UserInputError(f"{args.config_path}: not an encoder-decoder model (no \"decoder\"); use generate.py")
    args.max_new_tokens = args.max_new_tokens or args.seq_length
    if args.beam_width < 1:
        raise UserInputError("--beam_width must be at least 1")
    vocab, tokenizer = load_vocab_and_tokenizer(args, padding=False)
    tgt_vocab, tgt_tokenizer = load_target_tokenizer(args, vocab, tokenizer)
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path, "lm", tgt_vocab), parallel=False)
    start, end = start_and_end(args, tgt_vocab)
    generator = torch.Generator().manual_seed(args.seed)
    outputs = []
    with torch.no_grad():
        for line_no, text in enumerate(read_lines(args.input_path, "input"), 1):
            ids = encode_sources(tokenizer, [text])[0][0]
            if len(ids) > args.seq_length:
                raise UserInputError(f"{args.input_path}:{line_no}: {len(ids)} tokens, more than --seq_length "
                                     f"{args.seq_length}")
            new = sample_one(model, torch.tensor([ids], device=device), start, end, args, generator)
            outputs.append(decode_target(tgt_tokenizer, new))
    with atomic_open(args.output_path, "w") as f:
        f.write("".join(o + "\n" for o in outputs))
    print(f"wrote {args.output_path}: {len(outputs)} generated texts")


if __name__ == "__main__":
    run_main(main)
