"""Multiple-choice reading comprehension (C3 JSON): each question becomes one sequence per choice,
[CLS] choice [SEP] question [SEP] context [SEP] (segment 1, then 2 for the context), cut to seq_length."""
import numpy as np
import torch.nn.functional as F

from uer.finetune.data import Examples, GroupedExamples
from uer.finetune.prediction import predict
from uer.core.errors import UserInputError
from uer.core.constants import CLS_TOKEN, SEP_TOKEN
from uer.core.readers import read_json

PAD_CHOICE = "No Answer"  # fills questions with fewer choices (as UER-py); such choices are never predicted


def read_c3(path, tokenizer, seq_length, max_choices_num=4, with_answers=True):
    """GroupedExamples (a group: the choices of a question) with fields "label" (answer index), "valid"
    [questions, choices] and "id" (each question's own "id" as the file has it, else ITEM_ID-QUESTION_INDEX)."""
    items = read_json(path, "C3 data")
    choice_texts, question_of, questions, context_of, contexts, labels, valid, ids = [], [], [], [], [], [], [], []
    for k, item in enumerate(items if isinstance(items, list) else [None]):
        if not (isinstance(item, list) and len(item) >= 2 and isinstance(item[1], list)):
            raise UserInputError(f"{path}: item {k}: expected [[context sentences], [questions], id] (C3 format)")
        contexts.append("\n".join(item[0]))
        for q, qa in enumerate(item[1]):
            choices = list(qa.get("choice", []))
            if not 1 <= len(choices) <= max_choices_num:
                raise UserInputError(f"{path}: item {k} question {q}: {len(choices)} choices; expected 1 to "
                                     f"--max_choices_num {max_choices_num}")
            answer = qa.get("answer")
            if with_answers and answer not in choices:
                raise UserInputError(f"{path}: item {k} question {q}: the answer {answer!r} is not a choice")
            labels.append(choices.index(answer) if answer in choices else 0)
            valid.append([True] * len(choices) + [False] * (max_choices_num - len(choices)))
            choices += [PAD_CHOICE] * (max_choices_num - len(choices))
            choice_texts += choices
            question_of += [len(questions)] * max_choices_num
            questions.append(qa.get("question", ""))
            context_of += [k] * max_choices_num
            ids.append(qa["id"] if "id" in qa else f"{item[2] if len(item) > 2 else k}-{q}")
    sequences, a_lens = encode_choice_sequences(tokenizer, choice_texts, (question_of, questions),
                                                (context_of, contexts), seq_length)
    fields = {"label": np.asarray(labels), "valid": np.asarray(valid), "id": ids}
    return GroupedExamples(Examples(sequences, a_lens), max_choices_num, fields, unit="questions")


def encode_choice_sequences(tokenizer, choices, questions, contexts, seq_length):
    """[CLS] choice [SEP] question [SEP] (segment 1) then context [SEP] (segment 2), cut to seq_length.

    questions and contexts are (index per choice row, distinct texts): each text is tokenized once."""
    cls, sep = tokenizer.vocab.get(CLS_TOKEN), tokenizer.vocab.get(SEP_TOKEN)
    question_ids, context_ids = (tokenizer.encode_batch(texts) for _, texts in (questions, contexts))
    sequences, a_lens = [], []
    for choice, q, c in zip(tokenizer.encode_batch(choices), questions[0], contexts[0]):
        head = [cls] + choice + [sep] + question_ids[q] + [sep]
        sequences.append((head + context_ids[c] + [sep])[:seq_length])
        a_lens.append(min(len(head), seq_length))
    return sequences, a_lens


def scores_of(model, examples, indices, src, seg):
    scores = model(src, seg).float()
    return scores.masked_fill(~examples.field("valid", indices, scores.device), -10000.0)


def choice_loss(model, examples, indices, src, seg):
    scores = scores_of(model, examples, indices, src, seg)
    return F.cross_entropy(scores, examples.field("label", indices, scores.device))


def predicted_choices(model, examples, batch_size, runtime):
    rows = predict(model, examples, batch_size, runtime, lambda *a: scores_of(*a).argmax(-1).cpu())
    return np.asarray([int(r) for r in rows])


def choice_evaluator(batch_size, runtime):
    def evaluate(model, examples, name):
        accuracy = float((predicted_choices(model, examples, batch_size, runtime) == examples.fields["label"]).mean())
        print(f"{name}: accuracy {accuracy:.4f} ({len(examples)} questions)", flush=True)
        return {"acc": accuracy}
    return evaluate
