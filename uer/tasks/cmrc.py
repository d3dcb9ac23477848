"""The cmrc task, run_cmrc.py and inference/run_cmrc_infer.py: its options, its fine-tuning and its prediction."""
import argparse
import json

from uer.opts import finetune_opts, reading_opts, inference_parser


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/cmrc_model.bin", learning_rate=3e-5, batch_size=64,
                  epochs_num=3, seq_length=100)
    reading_opts(parser)
    return parser


def fine_tune(args):
    from uer.finetune.loop import fine_tune_task
    from uer.tasks.reading import read_squad, ReadingSet, span_loss, reading_evaluator
    from uer.models.classifier import SpanReader
    from uer.text.tokenizers import load_vocab
    vocab, _ = load_vocab(args)
    fine_tune_task(args, SpanReader, vocab,
                   lambda path: ReadingSet(read_squad(path), vocab, args.seq_length, args.doc_stride), span_loss,
                   lambda runtime: reading_evaluator(args.batch_size, runtime, args.max_answer_length))


def inference_options(doc):
    parser = inference_parser(doc, seq_length=100)
    reading_opts(parser)
    return parser


def infer(args):
    from uer.tasks.reading import read_squad, ReadingSet, predicted_answers
    from uer.finetune.inference import fine_tuned
    from uer.models.classifier import SpanReader
    from uer.core.fileutil import atomic_open
    from uer.text.tokenizers import load_vocab
    vocab, _ = load_vocab(args)
    questions = read_squad(args.test_path, with_answers=False)
    data = ReadingSet(questions, vocab, args.seq_length, args.doc_stride, with_answers=False)
    model, device = fine_tuned(args, SpanReader, vocab)
    answers = predicted_answers(model, data, args.batch_size, device, args.max_answer_length)
    with atomic_open(args.prediction_path, "w") as f:
        json.dump({q["id"]: a for q, a in zip(questions, answers)}, f, ensure_ascii=False, indent=1)
    print(f"wrote {len(answers)} answers to {args.prediction_path}")
