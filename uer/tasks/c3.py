"""The c3 task, run_c3.py and inference/run_c3_infer.py: its options, its fine-tuning and its prediction."""
import argparse
import json

from uer.opts import finetune_opts, inference_parser


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/multichoice_model.bin", batch_size=32, epochs_num=8,
                  seq_length=512)
    task_options(parser)
    return parser


def task_options(parser):
    parser.add_argument("--max_choices_num", type=int, default=4, help="Most choices of a question (as in "
                        "fine-tuning, for inference).")


def fine_tune(args):
    from uer.tasks.choice import read_c3, choice_loss, choice_evaluator
    from uer.finetune.loop import fine_tune_task
    from uer.models.classifier import MultipleChoice
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    fine_tune_task(args, MultipleChoice, vocab,
                   lambda path: read_c3(path, tokenizer, args.seq_length, args.max_choices_num), choice_loss,
                   lambda runtime: choice_evaluator(args.batch_size, runtime))


def inference_options(doc):
    parser = inference_parser(doc, seq_length=512)
    task_options(parser)
    return parser


def infer(args):
    from uer.tasks.choice import read_c3, predicted_choices
    from uer.finetune.inference import fine_tuned
    from uer.models.classifier import MultipleChoice
    from uer.core.fileutil import atomic_open
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    examples = read_c3(args.test_path, tokenizer, args.seq_length, args.max_choices_num, with_answers=False)
    model, device = fine_tuned(args, MultipleChoice, vocab)
    choices = predicted_choices(model, examples, args.batch_size, device)
    with atomic_open(args.prediction_path, "w") as f:
        f.writelines(json.dumps({"id": i, "label": int(c)}, ensure_ascii=False) + "\n"
                     for i, c in zip(examples.fields["id"], choices))
    print(f"wrote {len(choices)} predictions to {args.prediction_path}")
