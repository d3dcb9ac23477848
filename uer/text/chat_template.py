"""A tokenizer's chat template (the chat_template.jinja beside it, or the "chat_template" of its
tokenizer_config.json), rendered as transformers' apply_chat_template renders it: a sandboxed environment with
trim_blocks and lstrip_blocks, the loop controls, `raise_exception`, `strftime_now`, a `tojson` filter that keeps
non-ASCII text, the tokenizer's special tokens as variables, and `{% generation %}` blocks accepted.

Which characters an assistant turn covers is found by rendering the conversation up to each assistant turn with
the generation prompt and up to its end: the turn is what the second adds to the first (its content and the
template's end-of-turn text, which the model must learn to emit). A template for which the shorter rendering is
not a prefix of the longer cannot mark its turns this way and is refused.
"""
import datetime
import json
import os

from uer.core.errors import UserInputError, fail_at
from uer.text.hf_tokenizer import declared_specials, tokenizer_config

ROLES = ("system", "user", "assistant")
TEMPLATE_FILE = "chat_template.jinja"  # transformers' file name
SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    import jinja2
    raise jinja2.exceptions.TemplateError(message)


def strftime_now(fmt):
    return datetime.datetime.now().strftime(fmt)


def generation_extension():
    """`{% generation %} ... {% endgeneration %}` (transformers' marker of assistant text) renders its body."""
    from jinja2 import nodes
    from jinja2.ext import Extension

    class Generation(Extension):
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

        def _render(self, caller):
            return caller()
    return Generation


class ChatTemplate:
    """render(messages, add_generation_prompt) -> text; assistant_spans(messages) -> the characters of each
    assistant turn in render(messages)."""

    def __init__(self, source, where, specials=None):
        try:
            import jinja2
            from jinja2.sandbox import ImmutableSandboxedEnvironment
        except ImportError:
            raise UserInputError("chat templates need jinja2: pip install jinja2") from None
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                            extensions=[generation_extension(), jinja2.ext.loopcontrols])
        env.filters["tojson"] = tojson
        env.globals.update(raise_exception=raise_exception, strftime_now=strftime_now)
        try:
            self.template = env.from_string(source)
        except jinja2.exceptions.TemplateSyntaxError as e:
            raise UserInputError(f"{where}: the chat template is not valid jinja2 (line {e.lineno}: {e.message})")
        self.where, self.specials = where, dict(specials or {})

    def render(self, messages, add_generation_prompt=False):
        import jinja2
        try:
            return self.template.render(messages=messages, add_generation_prompt=add_generation_prompt,
                                        tools=None, documents=None, **self.specials)
        except jinja2.exceptions.TemplateError as e:
            raise ValueError(f"the chat template ({self.where}) refused the conversation: {e}") from None

    def assistant_spans(self, messages, first=0):
        """(text, [(start, end) character range of each assistant turn from message `first` on])."""
        text = self.render(messages)
        spans = []
        for i, message in enumerate(messages):
            if message["role"] != "assistant" or i < first:
                continue
            before = self.render(messages[:i], add_generation_prompt=True)
            upto = self.render(messages[:i + 1])
            if not (upto.startswith(before) and text.startswith(upto)):
                raise ValueError(f"the chat template ({self.where}) does not render a conversation as the "
                                 "renderings of its beginnings followed by the rest, so its assistant turns cannot "
                                 "be told apart; use --train_on_prompt or another template")
            spans.append((len(before), len(upto)))
        return text, spans


def load_chat_template(tokenizer_path=None, template_path=None):
    """The template of --chat_template (a jinja file), or else the tokenizer's own as transformers loads it;
    refused in one line when there is none."""
    config_path, config = tokenizer_config(tokenizer_path) if tokenizer_path else (None, {})
    specials = declared_specials(config, SPECIAL_KEYS)
    if template_path:
        try:
            with open(template_path, encoding="utf-8") as f:
                return ChatTemplate(f.read(), template_path, specials)
        except FileNotFoundError:
            raise UserInputError(f"{template_path}: chat template file not found") from None
    where, source = tokenizer_template(config_path, config) if tokenizer_path else (None, None)
    if not isinstance(source, str):
        where = config_path or "the tokenizer"
        raise UserInputError(f"{where}: the tokenizer has no chat_template (nor a {TEMPLATE_FILE} beside it), which "
                             "chat data is rendered with; give one with --chat_template FILE.jinja "
                             "(models/chatml.jinja is ChatML)")
    return ChatTemplate(source, where, specials)


def tokenizer_template(config_path, config):
    """(where, source) of a tokenizer's default chat template: the chat_template.jinja beside its
    tokenizer_config.json (what transformers 5 saves, and takes over the config's), else the config's
    "chat_template" (a string, or named templates of which "default" is used)."""
    jinja_path = os.path.join(os.path.dirname(config_path), TEMPLATE_FILE)
    if os.path.exists(jinja_path):
        with open(jinja_path, encoding="utf-8") as f:
            return jinja_path, f.read()
    source = config.get("chat_template")
    if isinstance(source, list):
        source = next((t.get("template") for t in source if t.get("name") == "default"), None)
    return config_path, source


def check_messages_only(path, line, record):
    """The record's messages as [{"role", "content"}], each checked (one line naming the file and line)."""
    messages = record.get("messages") if isinstance(record, dict) else None
    if not isinstance(messages, list) or not messages:
        fail_at(path, line, "field 'messages' is missing or not a non-empty list of {\"role\", \"content\"}")
    for k, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str):
            fail_at(path, line, f"message {k} lacks a string 'content'")
        if m.get("role") not in ROLES:
            fail_at(path, line, f"message {k} has the unknown role {m.get('role')!r}; expected system, user or "
                                "assistant")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


# ShareGPT's speakers (LLaMA-Factory's default tags): "from" and "value" in place of "role" and "content"
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


def training_conversation(path, line, record):
    """(messages, index of the first message learned) of a chat training example in any of the layouts users'
    files come in: {"messages"} (HF datasets, OpenAI; every assistant turn learned), ShareGPT's {"conversations":
    [{"from": "human" | "gpt" | "system", "value"}]}, or TRL's prompt-completion {"prompt": [...], "completion":
    [...]} (only the completion's assistant turns learned, as TRL trains them)."""
    if isinstance(record, dict) and "messages" not in record:
        if isinstance(record.get("conversations"), list):
            turns = record["conversations"]
            for k, turn in enumerate(turns):
                speaker = turn.get("from") if isinstance(turn, dict) else None
                if speaker not in SHAREGPT_ROLES:
                    fail_at(path, line, f"turn {k} of 'conversations' is from {speaker!r}; expected one of "
                                        f"{', '.join(SHAREGPT_ROLES)}")
                if not isinstance(turn.get("value"), str):
                    fail_at(path, line, f"turn {k} of 'conversations' lacks a string 'value'")
            record = {"messages": [{"role": SHAREGPT_ROLES[t["from"]], "content": t.get("value")} for t in turns]}
        elif "prompt" in record or "completion" in record:
            prompt, completion = record.get("prompt"), record.get("completion")
            if not (isinstance(prompt, list) and isinstance(completion, list) and completion):
                fail_at(path, line, "'prompt' and 'completion' must be lists of {\"role\", \"content\"} (TRL's "
                                    "conversational prompt-completion)")
            return check_messages_only(path, line, {"messages": prompt + completion}), len(prompt)
    return check_messages_only(path, line, record), 0
