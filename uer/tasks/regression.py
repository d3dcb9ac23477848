"""The regression task, run_regression.py and inference/run_regression_infer.py: its options, its fine-tuning and its
prediction."""
from uer.opts import pooled_classifier_parser, inference_parser


def fine_tuning_options(doc):
    return pooled_classifier_parser(doc, "models/regression_model.bin")


def fine_tune(args):
    from uer.finetune.loop import fine_tune_task
    from uer.finetune.regression import read_scored, regression_loss, regression_evaluator
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    args.labels_num, args.labels_source = 1, "regression (one output)"
    fine_tune_task(args, Classifier, vocab, lambda path: read_scored(path, tokenizer, args.seq_length),
                   regression_loss, lambda runtime: regression_evaluator(args.batch_size, runtime))


def inference_options(doc):
    return inference_parser(doc, pooling="first")


def predict(args):
    from uer.finetune.classification import logits_of
    from uer.finetune.inference import predict_test_set, write_predictions
    from uer.finetune.regression import read_scored
    from uer.models.classifier import Classifier
    args.labels_num = 1
    scores = predict_test_set(args, Classifier, lambda tokenizer: read_scored(args.test_path, tokenizer,
                                                                              args.seq_length, with_labels=False),
                              logits_of)
    write_predictions(args.prediction_path, ["label"], [[f"{float(v):.6g}"] for v in scores])
