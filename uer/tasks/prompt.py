"""run_classifier_prompt.py: a prompts file (JSON: name -> {"template": "[TEXT_A],我[ANS]满意", "answer_words":
{"0": "不", "1": "很"}}), the TSVs (label, text_a[, text_b]) put into the template with [MASK] at [ANS], and
the loss: cross-entropy over the answer words' MLM scores (uer/models/prompt.py)."""
import re
import sys

import numpy as np
import torch.nn.functional as F

from uer.finetune.data import read_tsv, parse_labels, Examples
from uer.core.constants import CLS_TOKEN, SEP_TOKEN, MASK_TOKEN, UNK_TOKEN
from uer.core.errors import UserInputError
from uer.core.readers import read_json_object

SLOTS = ("[TEXT_A]", "[TEXT_B]", "[ANS]")


class Prompt:
    def __init__(self, path, name, tokenizer):
        prompts = read_json_object(path, "prompts file")
        if name not in prompts:
            raise UserInputError(f"{path}: no prompt {name!r} (it has {', '.join(sorted(prompts)) or 'none'})")
        entry = prompts[name]
        where = f"{path}: prompt {name!r}"
        if not isinstance(entry, dict) or not isinstance(entry.get("template"), str) or \
                not isinstance(entry.get("answer_words"), dict):
            raise UserInputError(f"{where}: expected {{\"template\": \"...[ANS]...\", \"answer_words\": "
                                 "{\"0\": WORD, \"1\": WORD, ...}}")
        self.template, self.where = entry["template"], where
        for slot, times in (("[ANS]", 1), ("[TEXT_A]", 1)):
            if self.template.count(slot) != times:
                raise UserInputError(f"{where}: the template must hold {slot} once, not "
                                     f"{self.template.count(slot)} times: {self.template!r}")
        self.answer_ids = self._answer_ids(entry["answer_words"], tokenizer)
        self.pieces = [(p, p if p in SLOTS else tokenizer.encode_batch([p])[0])
                       for p in re.split(r"(\[TEXT_A\]|\[TEXT_B\]|\[ANS\])", self.template) if p]
        self.fixed = sum(len(ids) for p, ids in self.pieces if p not in SLOTS)

    def _answer_ids(self, words, tokenizer):
        if set(words) != {str(k) for k in range(len(words))} or len(words) < 2:
            raise UserInputError(f"{self.where}: answer_words must map the labels 0..n-1 (n >= 2) to words, not "
                                 f"the keys {', '.join(words) or '(none)'}")
        ids = []
        for label in range(len(words)):
            word = words[str(label)]
            tokens = tokenizer.encode_batch([word])[0] if isinstance(word, str) else []
            if len(tokens) != 1:
                raise UserInputError(f"{self.where}: the answer word of label {label}, {word!r}, is {len(tokens)} "
                                     "tokens of the vocabulary; each answer must be one token")
            if tokens[0] == tokenizer.vocab.get(UNK_TOKEN):
                raise UserInputError(f"{self.where}: the answer word of label {label}, {word!r}, is not in the "
                                     "vocabulary")
            ids.append(tokens[0])
        if len(set(ids)) < len(ids):
            raise UserInputError(f"{self.where}: two labels have the same answer word")
        return ids

    def encode(self, tokenizer, texts_a, texts_b, seq_length):
        """[CLS] template [SEP] with the texts in their slots (cut, longest first, so the template fits) and
        [MASK] at [ANS]: (sequences, the position of [MASK] in each)."""
        vocab = tokenizer.vocab
        cls, sep, mask = vocab.get(CLS_TOKEN), vocab.get(SEP_TOKEN), vocab.get(MASK_TOKEN)
        budget = seq_length - 3 - self.fixed
        if budget < 1:
            raise UserInputError(f"{self.where}: the template is {self.fixed + 3} tokens with [CLS], [MASK] and "
                                 f"[SEP]; --seq_length {seq_length} leaves no room for the text")
        ids_a = tokenizer.encode_batch(texts_a)
        ids_b = tokenizer.encode_batch(texts_b) if texts_b is not None else [[] for _ in ids_a]
        sequences, answer_at = [], []
        for a, b in zip(ids_a, ids_b):
            a, b = fit(a, b, budget)
            seq = [cls]
            for piece, ids in self.pieces:
                if piece == "[ANS]":
                    answer_at.append(len(seq))
                    seq.append(mask)
                else:
                    seq += a if piece == "[TEXT_A]" else b if piece == "[TEXT_B]" else ids
            sequences.append(seq + [sep])
        return sequences, np.asarray(answer_at, dtype=np.int64)


def fit(a, b, budget):
    """a and b cut to at most budget tokens together, the longer first."""
    if len(a) + len(b) <= budget:
        return a, b
    half = budget // 2
    if len(a) <= half:
        return a, b[:budget - len(a)]
    if len(b) <= budget - half:
        return a[:budget - len(b)], b
    return a[:half], b[:budget - half]


def read_prompted(path, prompt, tokenizer, seq_length, with_labels=True):
    """Examples (one segment) with the fields "answer_at" and, with labels, "label"."""
    columns = read_tsv(path, (["label"] if with_labels else []) + ["text_a"], optional=["text_b"])
    if "[TEXT_B]" in prompt.template and "text_b" not in columns:
        raise UserInputError(f"{path}:1: the template of {prompt.where} has [TEXT_B], so the file needs a text_b "
                             "column")
    if "text_b" in columns and "[TEXT_B]" not in prompt.template:
        print(f"warning: {path}: the text_b column is not used: the template of {prompt.where} has no [TEXT_B]",
              file=sys.stderr)
    texts_b = columns.get("text_b") if "[TEXT_B]" in prompt.template else None
    sequences, answer_at = prompt.encode(tokenizer, columns["text_a"], texts_b, seq_length)
    fields = {"answer_at": answer_at}
    if with_labels:
        fields["label"] = parse_labels(path, columns["label"], columns["line"], len(prompt.answer_ids))
    return Examples(sequences, [len(s) for s in sequences], fields)


def answer_logits(model, examples, indices, src, seg):
    return model(src, seg, examples.field("answer_at", indices, src.device)).float().cpu()


def prompt_loss(model, examples, indices, src, seg):
    logits = model(src, seg, examples.field("answer_at", indices, src.device)).float()
    return F.cross_entropy(logits, examples.field("label", indices, logits.device))
