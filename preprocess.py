#!/usr/bin/env python3
"""Turn a corpus into dataset.pt for pretrain.py."""
import argparse
import time

from uer.opts import tokenizer_opts, masking_opts, seq2seq_data_opts, resolve_tokenizer_alias
from uer.core.cli import run_main
from uer.data.targets import str2data
from uer.text.segmenters import SEGMENTERS
from uer.text.tokenizers import load_vocab


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus_path", required=True, help="Corpus (UTF-8).")
    tokenizer_opts(parser)
    parser.add_argument("--dataset_path", default="dataset.pt", help="Output dataset.")
    parser.add_argument("--processes_num", type=int, default=1, help="Worker processes.")
    parser.add_argument("--target", choices=sorted(str2data), default="bert",
                        help="Pre-training target the dataset is made for.")
    parser.add_argument("--docs_buffer_size", type=int, default=100000,
                        help="Documents per block; bounds memory and the pool of random next sentences.")
    parser.add_argument("--seq_length", type=int, default=128, help="Sequence length of instances.")
    parser.add_argument("--dup_factor", type=int, default=None,
                        help="Copies of the corpus with fresh random masks and sentence pairs (default 5).")
    parser.add_argument("--short_seq_prob", type=float, default=0.1,
                        help="Probability of a shorter target length (bert/albert).")
    parser.add_argument("--full_sentences", action="store_true", help="Pack instances across documents.")
    parser.add_argument("--packing", action="store_true",
                        help="Decoder targets (lm, llm_pretrain, llm_sft, chat): fill rows with consecutive examples, "
                             "each attending only to itself, its positions from 0 (docs/decoders.md).")
    parser.add_argument("--train_on_prompt", action="store_true",
                        help="--target llm_sft, chat: the loss covers the whole row, not only the answers.")
    parser.add_argument("--chat_template", default=None,
                        help="--target chat: a jinja2 chat template file, for a tokenizer whose "
                             "tokenizer_config.json has none (models/chatml.jinja is ChatML).")
    parser.add_argument("--seed", type=int, default=7, help="Random seed.")
    parser.add_argument("--dynamic_masking", action="store_true", help="Mask when batches are drawn (RoBERTa).")
    masking_opts(parser)
    seq2seq_data_opts(parser)
    parser.add_argument("--segmenter", choices=SEGMENTERS, default=None,
                        help="Words for --whole_word_masking: jieba (Chinese; the default) or space (the corpus is "
                             "segmented with spaces).")
    parser.add_argument("--user_dict_path", default=None,
                        help="jieba user dictionary ('word [frequency] [tag]' per line) for --segmenter jieba.")
    return parser


def main(argv=None):
    args = resolve_tokenizer_alias(build_parser().parse_args(argv))
    from uer.data import preprocessing
    vocab, _ = load_vocab(args, padding=not (str2data[args.target].decoder_rows or args.packing))
    if args.dup_factor is None:
        args.dup_factor = 5
    elif args.dup_factor > 1 and not str2data[args.target].duplicates:
        why = "draws its noise when batches are drawn, a new one each epoch" if str2data[args.target].seq2seq \
            else "has no random choices"
        print(f"note: --target {args.target} {why}; --dup_factor {args.dup_factor} would write identical copies, "
              "so one copy is written")
    start = time.time()
    header = preprocessing.run(args, vocab)
    print(f"wrote {args.dataset_path}: {header['instances']} instances of target {header['target']}, "
          f"seq_length {header['seq_length']}, vocab {header['vocab_size']} ({time.time() - start:.1f} s)")


if __name__ == "__main__":
    run_main(main)
