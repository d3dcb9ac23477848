"""The ner task, run_ner.py and inference/run_ner_infer.py: its options, its fine-tuning and its prediction."""
import argparse

from uer.opts import finetune_opts, inference_parser


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/ner_model.bin", batch_size=32, epochs_num=3)
    task_options(parser)
    return parser


def task_options(parser):
    parser.add_argument("--label2id_path", required=True, help="JSON object: tag -> id (the same for inference).")
    parser.add_argument("--crf_target", action="store_true",
                        help="A CRF over the tag scores: sentence-level likelihood, Viterbi decoding (inference: "
                             "the model was fine-tuned with it).")


def fine_tune(args):
    from uer.finetune.loop import fine_tune_task
    from uer.tasks.tagging import tagging_setup, read_tagging, tagging_loss, tagging_evaluator
    from uer.models.tagger import Tagger
    vocab, label2id, facts = tagging_setup(args)
    id2label = {i: t for t, i in label2id.items()}
    fine_tune_task(args, Tagger, vocab,
                   lambda path: read_tagging(path, vocab, args.seq_length, label2id), tagging_loss,
                   lambda runtime: tagging_evaluator(args.batch_size, runtime, id2label), **facts)


def inference_options(doc):
    parser = inference_parser(doc)
    task_options(parser)
    return parser


def infer(args):
    from uer.tasks.tagging import tagging_setup, read_tagging, predicted_tags, check_crf_flag
    from uer.finetune.inference import fine_tuned
    from uer.model_loader import read_state_dict
    from uer.models.tagger import Tagger
    from uer.core.fileutil import atomic_open
    vocab, label2id, facts = tagging_setup(args)
    id2label = {i: t for t, i in label2id.items()}
    examples = read_tagging(args.test_path, vocab, args.seq_length)
    check_crf_flag(read_state_dict(args.load_model_path, mmap=True), args.load_model_path, args.crf_target)
    model, device = fine_tuned(args, Tagger, vocab, **facts)
    tags = predicted_tags(model, examples, args.batch_size, device, id2label)
    with atomic_open(args.prediction_path, "w") as f:
        f.write("pred_label\n")
        f.writelines(" ".join(row) + "\n" for row in tags)
    print(f"wrote {len(tags)} predictions to {args.prediction_path}")
