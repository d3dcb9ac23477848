"""run_regression.py: a number per text or pair (STS-B style): its TSVs, loss (mean squared error) and metrics
(Pearson, Spearman). The model is the classifier's (uer/models/classifier.py) with one output.

The task's scripts, run_regression.py and inference/run_regression_infer.py: its options, its fine-tuning and its
prediction."""
import numpy as np
import torch
import torch.nn.functional as F

from uer.opts import pooled_classifier_parser, inference_parser
from uer.tasks.classification import logits_of
from uer.finetune.data import read_tsv, encode_pairs, parse_scores, Examples
from uer.finetune.prediction import predict
from uer.finetune.metrics import pearson, ranks


ONE_OUTPUT = {"labels_num": 1, "labels_source": "regression (one output)"}  # the classifier's head, one number


def read_scored(path, tokenizer, seq_length, with_labels=True):
    """Examples with the float field "score" (column label)."""
    columns = read_tsv(path, (["label"] if with_labels else []) + ["text_a"], optional=["text_b"])
    sequences, a_lens = encode_pairs(tokenizer, columns["text_a"], columns.get("text_b"), seq_length)
    fields = {"score": parse_scores(path, columns["label"], columns["line"])} if with_labels else {}
    return Examples(sequences, a_lens, fields)


def regression_loss(model, examples, indices, src, seg):
    prediction = model(src, seg).float().squeeze(-1)
    return F.mse_loss(prediction, examples.field("score", indices, prediction.device))


def regression_evaluator(batch_size, runtime):
    def evaluate(model, examples, name):
        predicted = torch.cat(predict(model, examples, batch_size, runtime, logits_of)).numpy()
        gold = examples.fields["score"]
        figures = {"pearson": pearson(predicted, gold), "spearman": pearson(ranks(predicted), ranks(gold)),
                   "mse": float(np.mean((predicted - gold) ** 2))}
        print(f"{name}: Pearson {figures['pearson']:.4f} Spearman {figures['spearman']:.4f} MSE "
              f"{figures['mse']:.4f}", flush=True)
        return figures
    return evaluate


def fine_tuning_options(doc):
    return pooled_classifier_parser(doc, "models/regression_model.bin")


def fine_tune(args):
    from uer.finetune.loop import fine_tune_task
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    fine_tune_task(args, Classifier, vocab, lambda path: read_scored(path, tokenizer, args.seq_length),
                   regression_loss, lambda runtime: regression_evaluator(args.batch_size, runtime), **ONE_OUTPUT)


def inference_options(doc):
    return inference_parser(doc, pooling="first")


def infer(args):
    from uer.tasks.classification import logits_of
    from uer.finetune.inference import predict_test_set, write_predictions
    from uer.models.classifier import Classifier
    scores = predict_test_set(args, Classifier, lambda tokenizer: read_scored(args.test_path, tokenizer,
                                                                              args.seq_length, with_labels=False),
                              logits_of, **ONE_OUTPUT)
    write_predictions(args.prediction_path, ["label"], [[f"{float(v):.6g}"] for v in scores])
