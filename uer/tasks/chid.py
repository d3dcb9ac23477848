"""The chid task (ChID idiom cloze), run_chid.py and inference/run_chid_infer.py, as UER-py's: a JSON line per
passage group {"candidates": [idioms], "content": [texts with #idiom000123# blanks]} and an answer file
{"#idiom000123#": candidate index}. Each blank is a multiple choice over the group's candidates: per candidate the
row [CLS] candidate [SEP] left [SEP] right [SEP], left and right being the characters around the blank (together
seq_length - 4 of them, balanced as UER-py's add_tokens_around; other blanks become [MASK]), cut to seq_length.
Characters are the tokens (UER-py reads ChID with its char tokenizer whatever --tokenizer says).

As in UER-py, every row has segment 0 and is padded to seq_length, which there makes the encoder's padding mask
shift every score equally: each position sees all seq_length positions. The model computes that (segment 0 in the
embedding, no padding mask), so UER-py's ChID models and recipes give their numbers here; the candidates are not
masked either (a group with fewer than --max_choices_num has empty rows, scored as UER-py scores them).
Inference assigns candidates to the blanks of a passage group greedily by score, each candidate and blank once
(UER-py's postprocess_chid_predictions), and writes {"#idiom...#": candidate index} JSON."""
import argparse
import json
import re

import numpy as np

from uer.opts import finetune_opts, inference_parser

BLANK = re.compile(r"#idiom\d{6}#")


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/multichoice_model.bin")
    parser.add_argument("--train_answer_path", required=True, help="Answers of the training set (JSON).")
    parser.add_argument("--dev_answer_path", required=True, help="Answers of the development set (JSON).")
    task_options(parser)
    return parser


def task_options(parser):
    parser.add_argument("--max_choices_num", type=int, default=10, help="Candidates per blank; fewer are padded.")


def pieces(text):
    """UER-py's tokenize_chid: the text's characters, each blank tag one piece."""
    out, at = [], 0
    for m in BLANK.finditer(text):
        out += list(text[at:m.start()]) + [m.group(0)]
        at = m.end()
    return out + list(text[at:])


def around(tokens, index, count):
    """UER-py's add_tokens_around: `count` tokens around tokens[index], half on each side where there is room."""
    left_n = count // 2
    right_n = count - left_n
    if index >= left_n and len(tokens) - 1 - index >= right_n:
        return tokens[index - left_n:index], tokens[index + 1:index + 1 + right_n]
    if index < left_n:
        left = tokens[:index]
        return left, tokens[index + 1:index + 1 + count - len(left)]
    right = tokens[index + 1:]
    return tokens[max(0, index - (count - len(right))):index], right


def read_chid(path, answer_path, tokenizer, seq_length, max_choices_num):
    """GroupedExamples of the blanks (their candidates' rows) with fields "label", "valid" (all true: UER-py
    scores every row), "tag" and "group" (the passage group, for inference's assignment)."""
    from uer.core.errors import UserInputError, fail_at
    from uer.core.readers import read_json, read_jsonl
    from uer.finetune.data import Examples, GroupedExamples
    answers = read_json(answer_path, "ChID answers") if answer_path else None
    rows, labels, tags, groups = [], [], [], []
    for number, item in read_jsonl(path, "ChID file", "{\"candidates\": [...], \"content\": [...]}"):
        for tag, choices in blanks(path, number, item, tokenizer, seq_length, max_choices_num):
            if answers is not None and tag not in answers:
                fail_at(path, number, f"{tag} has no answer in {answer_path}")
            rows += choices + [[]] * (max_choices_num - len(choices))
            labels.append(answers[tag] if answers is not None else 0)
            tags.append(tag)
            groups.append(number)
    if not tags:
        raise UserInputError(f"{path}: no #idiom blank found")
    examples = Examples([r if r else [0] for r in rows], [0] * len(rows))
    examples.pad_to = seq_length  # UER-py's rows: every position is seen
    fields = {"label": np.asarray(labels), "valid": np.ones((len(tags), max_choices_num), dtype=bool),
              "tag": tags, "group": np.asarray(groups)}
    return GroupedExamples(examples, max_choices_num, fields, unit="blanks")


def blanks(path, number, item, tokenizer, seq_length, max_choices_num):
    """(tag, its candidates' token ids) of each blank of a passage group."""
    from uer.core.constants import CLS_TOKEN, MASK_TOKEN, SEP_TOKEN
    from uer.core.errors import fail_at
    candidates, contents = item.get("candidates"), item.get("content")
    if not (isinstance(candidates, list) and isinstance(contents, list)
            and 1 <= len(candidates) <= max_choices_num):
        fail_at(path, number, f"expected \"candidates\" (1 to --max_choices_num {max_choices_num}) and "
                "\"content\" lists")
    options = [[CLS_TOKEN] + tokenizer.tokenize(c) + [SEP_TOKEN] for c in candidates]
    for text in contents:
        tokens = [t for p in pieces(text) for t in ([p] if BLANK.fullmatch(p) else tokenizer.tokenize(p))]
        for tag in (t for t in tokens if BLANK.fullmatch(t)):
            left, right = around(tokens, tokens.index(tag), seq_length - 4)
            left, right = ([MASK_TOKEN if BLANK.fullmatch(t) else t for t in side] for side in (left, right))
            context = left + [SEP_TOKEN] + right + [SEP_TOKEN]
            yield tag, [tokenizer.convert_tokens_to_ids(o + context)[:seq_length] for o in options]


def assign(scores):
    """UER-py's assignment of a passage group's [blanks, candidates] scores: the best (candidate, blank) pairs
    first, each candidate and each blank used once. Returns a candidate per blank."""
    order = sorted(((float(s), c, b) for b, row in enumerate(scores) for c, s in enumerate(row)), key=lambda x: -x[0])
    chosen, used = {}, set()
    for _, c, b in order:
        if b not in chosen and c not in used:
            chosen[b] = c
            used.add(c)
    return [chosen[b] for b in range(len(scores))]


def fine_tune(args):
    from uer.finetune.loop import fine_tune_task
    from uer.models.classifier import IdiomCloze
    from uer.tasks.choice import choice_loss, choice_evaluator
    from uer.text.tokenizers import CharTokenizer, load_vocab
    vocab, _ = load_vocab(args)
    tokenizer = CharTokenizer(vocab)
    answer_paths = {args.train_path: args.train_answer_path, args.dev_path: args.dev_answer_path}
    if args.test_path:
        from uer.core.errors import UserInputError
        raise UserInputError("run_chid.py has no answers for a --test_path: predict it with "
                             "inference/run_chid_infer.py")
    fine_tune_task(args, IdiomCloze, vocab,
                   lambda path: read_chid(path, answer_paths[path], tokenizer, args.seq_length, args.max_choices_num),
                   choice_loss, lambda runtime: choice_evaluator(args.batch_size, runtime))


def inference_options(doc):
    parser = inference_parser(doc)
    task_options(parser)
    return parser


def infer(args):
    from uer.core.fileutil import atomic_open
    from uer.finetune.inference import fine_tuned
    from uer.finetune.prediction import predict
    from uer.models.classifier import IdiomCloze
    from uer.text.tokenizers import CharTokenizer, load_vocab
    vocab, _ = load_vocab(args)
    examples = read_chid(args.test_path, None, CharTokenizer(vocab), args.seq_length, args.max_choices_num)
    model, device = fine_tuned(args, IdiomCloze, vocab)
    scores = np.stack([row.numpy() for row in predict(model, examples, args.batch_size, device,
                                                       lambda m, e, i, src, seg: m(src, seg).float().cpu())])
    predictions = {}
    for group in dict.fromkeys(examples.fields["group"].tolist()):
        blanks = np.flatnonzero(examples.fields["group"] == group)
        for b, c in zip(blanks, assign(scores[blanks])):
            predictions[examples.fields["tag"][b]] = int(c)
    with atomic_open(args.prediction_path, "w") as f:
        json.dump(predictions, f, indent=2, ensure_ascii=False)
    print(f"wrote {len(predictions)} predictions to {args.prediction_path}")
