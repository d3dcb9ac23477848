"""The classifier_prompt task, run_classifier_prompt.py and inference/run_classifier_prompt_infer.py: its options,
its fine-tuning and its prediction."""
import argparse

from uer.opts import finetune_opts, prompt_opts, inference_parser


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/prompt_classifier_model.bin", data_paths=False)
    parser.add_argument("--train_path", default=None, help="Training set; without it, zero-shot evaluation.")
    parser.add_argument("--dev_path", required=True, help="Development set; the best epoch on it is kept.")
    parser.add_argument("--test_path", default=None, help="Test set, evaluated with the best model.")
    prompt_opts(parser)
    return parser


def fine_tune(args):
    from uer.tasks.classification import classifier_evaluator
    from uer.finetune.loop import FineTuner
    from uer.tasks.prompt import Prompt, read_prompted, prompt_loss, answer_logits
    from uer.models.prompt import PromptClassifier
    from uer.core.errors import UserInputError
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    prompt = Prompt(args.prompt_path, args.prompt_id, tokenizer)
    labels_num = len(prompt.answer_ids)
    train, dev, test = (read_prompted(path, prompt, tokenizer, args.seq_length) if path else None
                        for path in (args.train_path, args.dev_path, args.test_path))
    if train is None and not args.pretrained_model_path:
        raise UserInputError("zero-shot evaluation (no --train_path) needs --pretrained_model_path: a model with "
                             "an MLM head")
    tuner = FineTuner(args, PromptClassifier, vocab, keep_heads=True, answer_ids=prompt.answer_ids)
    if tuner.loaded and any(k.startswith("target.mlm") for k in tuner.loaded["missing"]):
        raise UserInputError(f"{args.pretrained_model_path}: no MLM head (target.mlm_* weights), which scores the "
                             "answer words: give a model pre-trained with the mlm, bert or albert target")
    evaluate = classifier_evaluator(args.batch_size, tuner.runtime, labels_num, answer_logits)
    if train is None:
        print(f"zero-shot: prompt {args.prompt_id!r}, answer words scored by {args.pretrained_model_path}")
        tuner.assess(evaluate, [("dev", dev), ("test", test)])
    else:
        print(f"{train.describe('training')}, prompt {args.prompt_id!r}, {labels_num} labels")
        tuner.run(train, dev, test, prompt_loss, evaluate)


def inference_options(doc):
    parser = inference_parser(doc, class_outputs=True)
    prompt_opts(parser)
    parser.add_argument("--labels_num", type=int, default=None,
                        help="As every classifier's inference takes it; checked against the prompt's answer words.")
    return parser


def infer(args):
    from uer.finetune.inference import fine_tuned, write_class_predictions
    from uer.finetune.prediction import predict
    from uer.tasks.prompt import Prompt, read_prompted, answer_logits
    from uer.models.prompt import PromptClassifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    prompt = Prompt(args.prompt_path, args.prompt_id, tokenizer)
    if args.labels_num is not None and args.labels_num != len(prompt.answer_ids):
        from uer.core.errors import UserInputError
        raise UserInputError(f"--labels_num {args.labels_num}, but {prompt.where} has "
                             f"{len(prompt.answer_ids)} answer words (one per label)")
    examples = read_prompted(args.test_path, prompt, tokenizer, args.seq_length, with_labels=False)
    model, device = fine_tuned(args, PromptClassifier, vocab, answer_ids=prompt.answer_ids)
    write_class_predictions(args, predict(model, examples, args.batch_size, device, answer_logits))
