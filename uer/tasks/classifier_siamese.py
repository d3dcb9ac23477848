"""The classifier_siamese task, run_classifier_siamese.py and inference/run_classifier_siamese_infer.py: its options,
its fine-tuning and its prediction."""
import argparse

from uer.opts import finetune_opts, inference_parser
from uer.layers.pooling import POOLINGS
from uer.core.errors import UserInputError


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/siamese_model.bin")
    parser.add_argument("--pooling", choices=POOLINGS, default="mean", help="How each text's vector is formed.")
    task_options(parser)
    return parser


def task_options(parser):
    parser.add_argument("--separate_towers", action="store_true",
                        help="A second encoder for text_b (both start from the pre-trained model; inference: as "
                             "in fine-tuning).")


def fine_tune(args):
    if args.separate_towers and args.use_lora:
        raise UserInputError("--separate_towers with --use_lora: the second tower would train in full; adapt one "
                             "shared tower (drop --separate_towers)")
    from uer.tasks.classification import classifier_loss, fine_tune_classifier
    from uer.tasks.pairs import read_text_pairs
    from uer.models.sentence import SiameseClassifier
    from uer.text.tokenizers import load_vocab_and_tokenizer
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    fine_tune_classifier(args, SiameseClassifier, vocab,
                         lambda path, labels_num: read_text_pairs(path, tokenizer, args.seq_length, "class",
                                                                  labels_num=labels_num),
                         classifier_loss(), unit="pairs")


def inference_options(doc):
    parser = inference_parser(doc, pooling="mean", labels_num=True, class_outputs=True)
    task_options(parser)
    return parser


def infer(args):
    from uer.tasks.classification import logits_of
    from uer.finetune.inference import predict_test_set, write_class_predictions
    from uer.tasks.pairs import read_text_pairs
    from uer.models.sentence import SiameseClassifier
    write_class_predictions(args, predict_test_set(
        args, SiameseClassifier, lambda tokenizer: read_text_pairs(args.test_path, tokenizer, args.seq_length),
        logits_of))
