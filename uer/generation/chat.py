"""scripts/chat.py: a chat model answering conversations rendered with its tokenizer's chat template, either
interactively (the answer streamed to the terminal as it is generated) or for a JSONL file of conversations,
many at once (left-padded, the keys and values cached).

A conversation of the file ends with a user turn (answered) or with an assistant turn, which is then the
reference: it is set aside, answered anew, and the exact-match share of the answers is reported. Generation
stops at the tokenizer's end-of-sequence token, at the special token the template ends an assistant turn
with, or at an end-of-turn token of the known templates."""
import json
import sys

import torch

from uer.core.errors import UserInputError, fail_at
from uer.core.fileutil import atomic_open
from uer.core.readers import read_jsonl
from uer.generation.decoder_only import generate
from uer.text.chat_template import load_chat_template

END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>", "<|endoftext|>", "<|eom_id|>")


def stop_ids(vocab, template=None, tokenizer=None):
    """The end-of-sequence token, the end-of-turn tokens of the known templates that the vocabulary has, and the
    template's own end of turn (template_end_of_turn)."""
    ids = {vocab.w2i[t] for t in END_OF_TURN if t in vocab.w2i}
    eos = vocab.roles.get("[SEP]", (None, None))[1] if hasattr(vocab, "roles") else None
    own = template_end_of_turn(template, tokenizer) if template is not None else None
    return ids | {i for i in (eos, own) if i is not None}


def template_end_of_turn(template, tokenizer):
    """The id of the special token a template puts right after an assistant's words (ChatML's <|im_end|>, or any
    other template's own), None when what follows them is plain text or the template will not say."""
    words = "0"
    try:
        text, spans = template.assistant_spans([{"role": "user", "content": "1"},
                                                {"role": "assistant", "content": words}])
    except ValueError:
        return None
    start, end = spans[-1]
    turn = text[start:end]
    after = turn[turn.rfind(words) + len(words):].strip()
    ids = tokenizer.hf.encode(after, add_special_tokens=False).ids if after else []
    added = tokenizer.hf.get_added_tokens_decoder()
    return ids[0] if ids and ids[0] in added and added[ids[0]].special else None


def read_conversations(path):
    """[(messages to answer, reference answer or None)] of a JSONL file of {"messages": [...]} (or the other
    layouts of training_conversation: a prompt-completion's completion is the reference)."""
    from uer.text.chat_template import training_conversation
    out = []
    for number, record in read_jsonl(path, "conversations file", "{\"messages\": [...]}"):
        messages = training_conversation(path, number, record)[0]
        reference = messages.pop()["content"] if messages[-1]["role"] == "assistant" else None
        if not messages or messages[-1]["role"] != "user":
            fail_at(path, number, "the conversation must end with a user turn (or one assistant turn after it)")
        out.append((messages, reference))
    if not out:
        raise UserInputError(f"{path}: no conversation")
    return out


class Chat:
    def __init__(self, args, model, device, vocab, tokenizer):
        self.model, self.device, self.tokenizer = model, device, tokenizer
        self.template = load_chat_template(args.tokenizer_path, args.chat_template)
        self.stop = stop_ids(vocab, self.template, tokenizer)
        self.sampling = (args.top_k, args.top_p, args.temperature)
        self.generator = torch.Generator().manual_seed(args.seed)
        self.max_new_tokens, self.seq_length = args.max_new_tokens or 256, args.seq_length

    def prompt_ids(self, messages):
        text = self.template.render(messages, add_generation_prompt=True)
        ids = self.tokenizer.hf.encode(text, add_special_tokens=False).ids
        if len(ids) + self.max_new_tokens > self.seq_length:
            ids = ids[-(self.seq_length - self.max_new_tokens):]  # the conversation's end, as much as fits
        return ids

    def answers(self, conversations, on_tokens=None):
        prompts = [self.prompt_ids(m) for m in conversations]
        out = generate(self.model, self.device, prompts, self.max_new_tokens, self.stop, self.sampling, self.generator,
                       on_tokens)
        return [self.tokenizer.hf.decode(ids, skip_special_tokens=True) for ids in out]


def answer_file(chat, args):
    conversations = read_conversations(args.input_path)
    results, matched, judged = [], 0, 0
    for lo in range(0, len(conversations), args.batch_size):
        part = conversations[lo:lo + args.batch_size]
        for (messages, reference), answer in zip(part, chat.answers([m for m, _ in part])):
            record = {"messages": messages + [{"role": "assistant", "content": answer}]}
            if reference is not None:
                record["reference"] = reference
                judged += 1
                matched += answer.strip() == reference.strip()
            results.append(record)
    with atomic_open(args.output_path, "w") as f:
        for record in results:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    summary = f"wrote {args.output_path}: {len(results)} answers"
    if judged:
        summary += f"; exact match {matched}/{judged} = {matched / judged:.4f}"
    print(summary)
    return matched / judged if judged else None


def interactive(chat, args, read=input, write=sys.stdout.write):
    """A conversation on the terminal; each answer streamed token by token. An empty line or end of input ends it."""
    messages = [{"role": "system", "content": args.system}] if args.system else []
    while True:
        try:
            line = read("user> ")
        except EOFError:
            break
        if not line.strip():
            break
        messages.append({"role": "user", "content": line})
        shown = Streamer(chat.tokenizer, write)
        write("assistant> ")
        answer = chat.answers([messages], on_tokens=lambda step, tokens: shown.add(int(tokens[0])))[0]
        write("\n")
        messages.append({"role": "assistant", "content": answer})
    return messages


class Streamer:
    """Writes the text of the tokens so far as it grows (a token may end inside a multi-byte character)."""

    def __init__(self, tokenizer, write):
        self.tokenizer, self.write, self.ids, self.shown = tokenizer, write, [], ""

    def add(self, token):
        if token < 0:
            return
        self.ids.append(token)
        text = self.tokenizer.hf.decode(self.ids, skip_special_tokens=True)
        if not text.endswith("\ufffd"):
            self.write(text[len(self.shown):])
            self.shown = text
            sys.stdout.flush()
