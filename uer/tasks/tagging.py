"""Sequence labeling (BIO tags): reading run_ner.py's TSVs, its loss, and entity-level precision/recall/F1."""
import numpy as np
import torch.nn.functional as F

from uer.finetune.data import read_tsv, Examples
from uer.finetune.prediction import predict
from uer.model_saver import unwrap
from uer.core.constants import UNK_TOKEN
from uer.core.errors import UserInputError
from uer.core.readers import read_json_object


def read_label2id(path):
    mapping = read_json_object(path, "tag -> id")
    if sorted(mapping.values()) != list(range(len(mapping))):
        raise UserInputError(f"{path}: expected a JSON object mapping each tag to an id 0..n-1")
    return mapping


def tagging_setup(args):
    """(vocab, label2id, the Tagger's facts) for run_ner.py and its inference, from --label2id_path."""
    from uer.text.tokenizers import load_vocab
    vocab, _ = load_vocab(args)
    label2id = read_label2id(args.label2id_path)
    return vocab, label2id, {"labels_num": len(label2id), "labels_source": f"--label2id_path {args.label2id_path}"}


def check_crf_flag(state, path, crf_target):
    """A model trained with --crf_target decodes with its CRF: the inference must say so too (and not)."""
    has_crf = any(k.startswith("crf.") for k in state)
    if has_crf != bool(crf_target):
        raise UserInputError(f"{path} was fine-tuned {'with' if has_crf else 'without'} --crf_target; "
                             f"{'add' if has_crf else 'drop'} --crf_target")


def read_tagging(path, vocab, seq_length, label2id=None):
    """Examples from a TSV with text_a (space-separated tokens) and, when label2id is given, label (one tag per
    token). Tokens are looked up in the vocabulary as they are (no re-tokenization), as UER-py does."""
    columns = read_tsv(path, ["text_a"] + (["label"] if label2id else []))
    unk = vocab.get(UNK_TOKEN)
    sequences, tags = [], []
    for k, (text, no) in enumerate(zip(columns["text_a"], columns["line"])):
        tokens = text.split(" ")
        sequences.append([vocab.w2i.get(t, unk) for t in tokens][:seq_length])
        if label2id:
            labels = columns["label"][k].split(" ")
            if len(labels) != len(tokens):
                raise UserInputError(f"{path}:{no}: {len(tokens)} tokens but {len(labels)} tags")
            unknown = [t for t in labels if t not in label2id]
            if unknown:
                raise UserInputError(f"{path}:{no}: tag {unknown[0]!r} is not in the label2id file")
            tags.append([label2id[t] for t in labels][:seq_length])
    token_fields = {"tag": np.concatenate([np.asarray(t, dtype=np.int64) for t in tags])} if label2id else {}
    return Examples(sequences, [len(s) for s in sequences], token_fields=token_fields)


def tagging_loss(model, examples, indices, src, seg):
    """(mean cross-entropy over the batch's tokens, their number); with a CRF, (mean negative log-likelihood of
    the sentences' tag sequences, their number)."""
    logits = model(src, seg).float()
    real = seg > 0
    tags = examples.token_field("tag", indices, src.device)
    crf = unwrap(model).crf
    if crf is not None:
        return -crf.log_likelihood(logits, tags, real).mean(), src.size(0)
    return F.cross_entropy(logits[real], tags[real]), real.sum()


def entities(tags):
    """{(type, first, last)} of a BIO tag sequence (strings). As conlleval: an I-X that does not continue an
    X entity starts one."""
    found, current = set(), None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, kind = tag.partition("-")
        continues = prefix == "I" and current is not None and current[0] == kind
        if current is not None and not continues:
            found.add((current[0], current[1], i - 1))
            current = None
        if prefix == "B" or (prefix == "I" and not continues):
            current = (kind, i)
    return found


def entity_scores(pred_sequences, gold_sequences):
    """(precision, recall, f1, correct, predicted, gold): an entity counts only if its type and both boundaries
    match."""
    correct = predicted = gold = 0
    for p, g in zip(pred_sequences, gold_sequences):
        pe, ge = entities(p), entities(g)
        correct, predicted, gold = correct + len(pe & ge), predicted + len(pe), gold + len(ge)
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, correct, predicted, gold


def predicted_tags(model, examples, batch_size, runtime, id2label):
    def rows(model, examples, indices, src, seg):
        scores, crf = model(src, seg), unwrap(model).crf
        best = (crf.decode(scores, seg > 0) if crf is not None else scores.argmax(-1)).cpu()
        return [best[r, :examples.length[i]] for r, i in enumerate(indices)]
    return [[id2label[t] for t in row.tolist()] for row in predict(model, examples, batch_size, runtime, rows)]


def tagging_evaluator(batch_size, runtime, id2label):
    def evaluate(model, examples, name):
        pred = predicted_tags(model, examples, batch_size, runtime, id2label)
        flat, lengths = examples.token_fields["tag"], examples.length
        gold = [[id2label[t] for t in flat[s:s + n]] for s, n in zip(examples.start, lengths)]
        p, r, f1, correct, predicted, total = entity_scores(pred, gold)
        print(f"{name}: entity precision {p:.4f} recall {r:.4f} f1 {f1:.4f} "
              f"({correct} correct, {predicted} predicted, {total} gold)", flush=True)
        return {"f1": f1, "precision": p, "recall": r}
    return evaluate
