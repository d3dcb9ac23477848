"""Pairs of texts encoded one by one ([CLS] text [SEP] each, segment 1), two rows per example, for the models
over sentence vectors (uer/models/sentence.py): run_classifier_siamese.py and run_simcse.py."""
import torch
import torch.nn.functional as F

from uer.finetune.data import read_tsv, encode_pairs, parse_labels, parse_scores, Examples, GroupedExamples
from uer.finetune.prediction import predict
from uer.finetune.metrics import pearson, ranks
from uer.models.sentence import pair_similarity


def read_text_pairs(path, tokenizer, seq_length, label=None, second_text=True, labels_num=None):
    """GroupedExamples of (text_a, text_b) rows; label: None (no column), "class" (field "label", integers) or
    "score" (field "score", floats); labels_num bounds the classes. second_text False: text_b is optional,
    text_a standing in for it where the file has none (SimCSE's unsupervised pairs: the same sentence twice,
    told apart by dropout)."""
    required = (["label"] if label else []) + ["text_a"] + (["text_b"] if second_text else [])
    columns = read_tsv(path, required, optional=["text_b"])
    texts_b = columns.get("text_b", columns["text_a"])
    interleaved = [t for pair in zip(columns["text_a"], texts_b) for t in pair]
    sequences, a_lens = encode_pairs(tokenizer, interleaved, None, seq_length)
    fields = {}
    if label == "class":
        fields["label"] = parse_labels(path, columns["label"], columns["line"], labels_num)
    elif label == "score":
        fields["score"] = parse_scores(path, columns["label"], columns["line"])
    examples = GroupedExamples(Examples(sequences, a_lens), 2, fields, unit="pairs")
    examples.self_paired = "text_b" not in columns
    return examples


def contrastive_loss(temperature, runtime):
    """SimCSE's InfoNCE: the first text of pair i has the second as its positive, the batch's other second texts
    as its negatives (under torchrun those of every process's share too: the batch is the whole batch)."""
    def loss_of(model, examples, indices, src, seg):
        u, v = F.normalize(model(src, seg).float(), dim=-1).unbind(1)
        v, start = runtime.whole_batch(v)
        logits = u @ v.t() / temperature
        return F.cross_entropy(logits, torch.arange(start, start + len(u), device=logits.device))
    return loss_of


def similarities_of(model, examples, indices, src, seg):
    return pair_similarity(model(src, seg)).cpu()


def similarity_evaluator(batch_size, runtime):
    """Spearman (the score) and Pearson correlation of the pairs' cosine similarity with their labels."""
    def evaluate(model, examples, name):
        predicted = torch.stack(predict(model, examples, batch_size, runtime, similarities_of)).numpy()
        gold = examples.fields["score"]
        figures = {"spearman": pearson(ranks(predicted), ranks(gold)), "pearson": pearson(predicted, gold)}
        print(f"{name}: Spearman {figures['spearman']:.4f} Pearson {figures['pearson']:.4f} (cosine similarity "
              f"of {len(examples)} pairs)", flush=True)
        return figures
    return evaluate

