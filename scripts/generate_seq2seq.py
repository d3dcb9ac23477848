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
from uer.opts import generation_parser, parse  # noqa: E402
from uer.utils.cli import run_main  # noqa: E402


def build_parser():
    parser = generation_parser(__doc__)
    parser.add_argument("--beam_width", type=int, default=1, help="Beams of beam search (1: no beam search).")
    parser.add_argument("--length_penalty", type=float, default=1.0,
                        help="Beam search: a finished hypothesis scores sum(log p) / length^LENGTH_PENALTY.")
    return parser


def beam_generate(model, src, start, end, args):
    """Beam search for one source (a [1, n] tensor): every beam reads the same encoder output."""
    import torch
    from uer.decoders.search import beam_search
    seg = torch.ones_like(src).expand(args.beam_width, -1)
    memory = model.encode(src[:1], seg[:1]).expand(args.beam_width, -1, -1)
    cache = [{} for _ in range(model.decoder.layers_num)]

    def step(tokens, position):
        tokens = tokens.to(src.device)[:, None]
        hidden = model.decode(memory, seg, tokens, torch.ones_like(tokens), cache, start=position)
        return model.target.word_logits(hidden[:, -1])

    def reorder(beams):
        for layer in cache:
            layer["k"], layer["v"] = layer["k"][beams.to(src.device)], layer["v"][beams.to(src.device)]
    return beam_search(step, reorder, start, end, args.beam_width, args.max_new_tokens, args.length_penalty)


def generate(model, src, start, end, args, generator):
    """Token ids generated for one source (a [1, n] tensor)."""
    import torch
    from uer.decoders.search import next_token
    if args.beam_width > 1:
        return beam_generate(model, src, start, end, args)
    seg = torch.ones_like(src)
    memory = model.encode(src, seg)
    cache = [{} for _ in range(model.decoder.layers_num)]
    ids = [start]
    while len(ids) <= args.max_new_tokens:
        step = torch.tensor([[ids[-1]]], device=src.device)
        hidden = model.decode(memory, seg, step, torch.ones_like(step), cache, start=len(ids) - 1)
        token = next_token(model.target.word_logits(hidden[0, -1]).cpu(), args.top_k, args.top_p, args.temperature,
                           generator)
        if token == end:
            break
        ids.append(token)
    return ids[1:]


def main(argv=None):
    args = parse(build_parser(), argv)
    import torch
    from uer.finetune.loop import place
    from uer.model_builder import build_for_probing
    from uer.utils.constants import CLS_TOKEN, SEP_TOKEN
    from uer.utils.errors import UserInputError
    from uer.utils.fileutil import atomic_open
    from uer.utils.readers import read_lines
    from uer.utils.text.hf_tokenizer import HfTokenizer
    from uer.utils.text.tokenizers import load_vocab_and_tokenizer
    if not getattr(args, "decoder", None):
        raise UserInputError(f"{args.config_path}: not an encoder-decoder model (no \"decoder\"); use generate.py")
    args.max_new_tokens = args.max_new_tokens or args.seq_length
    if args.beam_width < 1:
        raise UserInputError("--beam_width must be at least 1")
    vocab, tokenizer = load_vocab_and_tokenizer(args, padding=False)
    hf = isinstance(tokenizer, HfTokenizer)  # its own special tokens, as transformers would add them
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path, target="lm"), parallel=False)
    start = args.decoder_start_token_id if args.decoder_start_token_id is not None else vocab.get(CLS_TOKEN)
    generator = torch.Generator().manual_seed(args.seed)
    outputs = []
    with torch.no_grad():
        for line_no, text in enumerate(read_lines(args.input_path, "input"), 1):
            ids = tokenizer.hf.encode(text).ids if hf else \
                [vocab.get(CLS_TOKEN)] + tokenizer.encode(text) + [vocab.get(SEP_TOKEN)]
            if len(ids) > args.seq_length:
                raise UserInputError(f"{args.input_path}:{line_no}: {len(ids)} tokens, more than --seq_length "
                                     f"{args.seq_length}")
            new = generate(model, torch.tensor([ids], device=device), start, vocab.get(SEP_TOKEN), args, generator)
            outputs.append(tokenizer.hf.decode(new, skip_special_tokens=True) if hf else tokenizer.decode(new))
    with atomic_open(args.output_path, "w") as f:
        f.write("".join(o + "\n" for o in outputs))
    print(f"wrote {args.output_path}: {len(outputs)} generated texts")


if __name__ == "__main__":
    run_main(main)
