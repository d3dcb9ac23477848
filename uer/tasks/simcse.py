"""The simcse task, run_simcse.py and inference/run_simcse_infer.py: its options, its fine-tuning and its prediction."""
import argparse
import sys

from uer.opts import finetune_opts, inference_parser
from uer.layers.pooling import POOLINGS


def fine_tuning_options(doc):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path="models/simcse_model.bin", learning_rate=3e-5, epochs_num=1)
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sentence vector is formed.")
    parser.add_argument("--temperature", type=float, default=0.05, help="Of the contrastive softmax.")
    return parser


def fine_tune(args):
    from uer.finetune.loop import FineTuner
    from uer.tasks.pairs import read_text_pairs, contrastive_loss, similarity_evaluator
    from uer.models.sentence import SentenceEncoder
    from uer.core.errors import UserInputError
    from uer.text.tokenizers import load_vocab_and_tokenizer
    if args.temperature <= 0:
        raise UserInputError(f"--temperature must be positive, not {args.temperature}")
    vocab, tokenizer = load_vocab_and_tokenizer(args)
    train = read_text_pairs(args.train_path, tokenizer, args.seq_length, second_text=False)
    dev, test = (read_text_pairs(path, tokenizer, args.seq_length, "score") if path else None
                 for path in (args.dev_path, args.test_path))
    print(train.describe("training") + (" (each its own positive)" if train.self_paired else ""), flush=True)
    if train.self_paired and args.dropout == 0:
        print("warning: unsupervised SimCSE with dropout 0: a sentence's two passes are identical, only the "
              "negatives teach; set \"dropout\" in the config (SimCSE: 0.1)", file=sys.stderr)
    tuner = FineTuner(args, SentenceEncoder, vocab)
    tuner.run(train, dev, test, contrastive_loss(args.temperature, tuner.runtime),
              similarity_evaluator(args.batch_size, tuner.runtime))


def inference_options(doc):
    return inference_parser(doc, pooling="first")


def infer(args):
    from uer.finetune.inference import predict_test_set, write_predictions
    from uer.tasks.pairs import read_text_pairs, similarities_of
    from uer.models.sentence import SentenceEncoder
    similarity = predict_test_set(args, SentenceEncoder, lambda tokenizer: read_text_pairs(
        args.test_path, tokenizer, args.seq_length), similarities_of)
    write_predictions(args.prediction_path, ["similarity"], [[f"{float(v):.6g}"] for v in similarity],
                      "similarities")
