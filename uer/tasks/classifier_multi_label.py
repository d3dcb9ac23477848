"""The classifier_multi_label task, run_classifier_multi_label.py and inference/run_classifier_multi_label_infer.py:
its options, its fine-tuning and its prediction."""
from uer.opts import pooled_classifier_parser, inference_parser


def fine_tuning_options(doc):
    return pooled_classifier_parser(doc, "models/multi_label_classifier_model.bin")


def fine_tune(args):
    from uer.finetune.loop import FineTuner
    from uer.tasks.multi_label import read_multi_label, multi_label_loss, multi_label_evaluator
    from uer.models.classifier import Classifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_multi_label(args.train_path, tokenizer, args.seq_length)
    labels_num = train.fields["labels"].shape[1]
    dev = read_multi_label(args.dev_path, tokenizer, args.seq_length, labels_num)
    test = read_multi_label(args.test_path, tokenizer, args.seq_length, labels_num) if args.test_path else None
    print(f"{len(train)} training examples, {labels_num} labels")
    tuner = FineTuner(args, Classifier, vocab, labels_num=labels_num,
                      labels_source=f"the label ids of {args.train_path}")
    tuner.run(train, dev, test, multi_label_loss, multi_label_evaluator(args.batch_size, tuner.runtime))


def inference_options(doc):
    parser = inference_parser(doc, pooling="first", labels_num=True)
    parser.add_argument("--output_prob", action="store_true", help="Write the prob column.")
    return parser


def infer(args):
    import torch
    from uer.tasks.classification import logits_of
    from uer.finetune.inference import predict_test_set, write_predictions, numbers
    from uer.tasks.multi_label import read_multi_label, THRESHOLD
    from uer.models.classifier import Classifier
    logits = predict_test_set(args, Classifier, lambda tokenizer: read_multi_label(
        args.test_path, tokenizer, args.seq_length, with_labels=False), logits_of)
    probs = torch.sigmoid(torch.stack(logits)).tolist()
    rows = [[",".join(str(k) for k, p in enumerate(row) if p >= THRESHOLD)] + [numbers(row)] * args.output_prob
            for row in probs]
    write_predictions(args.prediction_path, ["label"] + ["prob"] * args.output_prob, rows)
