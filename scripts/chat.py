#!/usr/bin/env python3
"""Chat with a decoder model trained on chat data (preprocess.py --target chat): interactively, the answer
streamed as it is generated, or with --input_path for a JSONL file of {"messages": [...]} conversations,
answered --batch_size at a time and written to --output_path (a conversation ending with an assistant turn
is scored against it: exact match). The tokenizer's chat template (or --chat_template) renders the prompt;
decoding flags as scripts/generate.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from uer.opts import generation_parser, parse  # noqa: E402
from uer.core.cli import run_main  # noqa: E402


def build_parser():
    parser = generation_parser(__doc__, files=False)
    parser.add_argument("--input_path", default=None, help="JSONL conversations (default: chat on the terminal).")
    parser.add_argument("--output_path", default=None, help="JSONL of the answered conversations.")
    parser.add_argument("--chat_template", default=None, help="A jinja2 chat template, for a tokenizer without one.")
    parser.add_argument("--system", default=None, help="Interactive: a system message to begin with.")
    parser.set_defaults(max_new_tokens=64, batch_size=8)
    return parser


def main(argv=None):
    args = parse(build_parser(), argv)
    from uer.core.errors import UserInputError
    from uer.generation.chat import Chat, answer_file, interactive
    from uer.model_builder import build_for_probing
    from uer.runtime.runtime import place
    from uer.text.tokenizers import load_vocab_and_tokenizer
    if args.tokenizer != "hf":
        raise UserInputError("chat.py renders conversations with a HuggingFace tokenizer's chat template: "
                             "--tokenizer hf --tokenizer_path tokenizer.json")
    if bool(args.input_path) != bool(args.output_path):
        raise UserInputError("--input_path and --output_path go together (without them: chat on the terminal)")
    if args.max_new_tokens < 1 or args.max_new_tokens >= args.seq_length:
        raise UserInputError("--max_new_tokens must be at least 1 and below --seq_length")
    vocab, tokenizer = load_vocab_and_tokenizer(args, padding=False)
    model, device = place(build_for_probing(args, vocab, args.pretrained_model_path, target="lm"), parallel=False)
    chat = Chat(args, model, device, vocab, tokenizer)
    if args.input_path:
        answer_file(chat, args)
    else:
        interactive(chat, args)


if __name__ == "__main__":
    run_main(main)
