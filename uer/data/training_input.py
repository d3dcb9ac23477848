"""The dataset pretrain.py trains on, checked against the run's vocabularies and config before a model is built."""
import sys
from argparse import Namespace

from uer.core.errors import UserInputError
from uer.core.model_config import model_config
from uer.data.llm_data import needs_decoder_batch
from uer.data.pretrain_data import PretrainDataset
from uer.data.targets import LABELLED_TARGETS
from uer.models.body import POSITION_TABLES
from uer.text.tokenizers import load_vocab, load_tgt_vocab


def open_dataset(args):
    """(dataset, vocabulary, target vocabulary or None, what the model takes from the dataset: seq_length, and
    labels_num for --target cls) of --dataset_path."""
    dataset = PretrainDataset(args.dataset_path)
    # pretrain.py has no --tokenizer: the vocabulary is read as the dataset's tokenizer read it (xlmroberta's ids)
    made_with = Namespace(**dict(vars(args), tokenizer=getattr(args, "tokenizer", None) or dataset.header.get(
        "tokenizer")))
    vocab, _ = load_vocab(made_with, padding=not needs_decoder_batch(dataset.header))
    made_for = getattr(args, "data_processor", None)
    if made_for and made_for != dataset.header["target"]:
        raise UserInputError(f"{args.config_path}: data_processor {made_for!r}, but {args.dataset_path} was made by "
                             f"preprocess.py --target {dataset.header['target']}; preprocess with --target {made_for}")
    dataset.check(args.target, vocab, args.span_masking, (args.span_geo_prob, args.span_max_length),
                  args.whole_word_masking)
    check_answer_loss(args, dataset.header)
    facts = {"seq_length": dataset.header["seq_length"]}
    if args.target in LABELLED_TARGETS:
        facts["labels_num"] = dataset.header["labels_num"]
    if args.embedding in POSITION_TABLES and facts["seq_length"] > args.max_seq_length:
        raise UserInputError(f"{args.dataset_path} has seq_length {facts['seq_length']}, longer than the position "
                             f"embedding ({args.max_seq_length} positions, config max_seq_length)")
    return dataset, vocab, check_seq2seq(args, dataset), facts


def check_answer_loss(args, header):
    """TencentPretrain's --prefix_lm_loss (the loss on the answers) is how llm_sft and chat datasets are made here;
    its absence, which there means the whole row, is said out loud."""
    answers_only = header.get("token_flags") and not header.get("train_on_prompt")
    if getattr(args, "prefix_lm_loss", False) and not answers_only:
        how = "was made with --train_on_prompt" if header.get("token_flags") else \
            f"of --target {header['target']} has no prompt"
        raise UserInputError(f"--prefix_lm_loss: {args.dataset_path} {how}; the loss covers its whole rows")
    if answers_only and not getattr(args, "prefix_lm_loss", False) and header["target"] == "llm_sft":
        print(f"note: {args.dataset_path} (--target llm_sft) puts the loss on the outputs only, as TencentPretrain's "
              "--prefix_lm_loss; for the whole row (TencentPretrain without it) preprocess with --train_on_prompt",
              file=sys.stderr)


def check_seq2seq(args, dataset):
    """An encoder-decoder model trains on an encoder-decoder dataset and the other way round; returns the target
    vocabulary when the dataset has its own (checked against --tgt_vocab_path / --tgt_spm_model_path)."""
    h, path, config = dataset.header, args.dataset_path, model_config(args)
    if dataset.data.seq2seq != bool(config.decoder):
        if dataset.data.seq2seq:
            raise UserInputError(f"{path} was made by preprocess.py --target {h['target']}, which trains an "
                                 "encoder-decoder model: a config with \"decoder\" (e.g. models/t5_small_config.json)")
        raise UserInputError(f"{args.config_path}: an encoder-decoder model (\"decoder\") trains on a dataset of "
                             f"preprocess.py --target mt, t5, bart or gsg, not {h['target']}")
    dataset.start_id = config.decoder_start_token_id
    tgt_vocab = load_tgt_vocab(args)
    if "tgt_vocab_fingerprint" not in h:
        if tgt_vocab is not None:
            raise UserInputError(f"{path} was made without a target vocabulary; drop --tgt_vocab_path / "
                                 "--tgt_spm_model_path")
        return None
    if tgt_vocab is None or tgt_vocab.fingerprint != h["tgt_vocab_fingerprint"]:
        raise UserInputError(f"{path} was made with the target vocabulary {h['tgt_vocab_source']} "
                             f"({h['tgt_vocab_size']} tokens); pass the same --tgt_vocab_path or "
                             "--tgt_spm_model_path to pretrain.py")
    return tgt_vocab
