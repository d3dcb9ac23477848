"""Command-line options shared by every script. Each script adds only what is specific to it."""
import argparse
import json
import os
import sys

from uer.core.errors import UserInputError
from uer.core.model_config import CONFIG_KEYS, DEFAULTS, SHAPE_KEYS  # noqa: F401 -- SHAPE_KEYS: read from here too
from uer.core.readers import read_json_object
from uer.optim.schedules import SCHEDULES

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO_ROOT, "models", "bert_base_config.json")

# Model hyper-parameters used when neither the config file nor a command-line flag sets them: those a config file
# sets, of uer/core/model_config.py's ModelConfig (where every model key has its one default). A config that
# says nothing about layer norm gets UER-py's 2020 formula (unbiased std, eps 1e-6 added to it): every config
# and checkpoint of the original was made with it. See check_layer_norm_keys.
# The keys that give a model its shape have no default: each embedding and encoder names the ones it needs
# (shape_keys) and model_builder.check_shape_keys refuses a config without them.
MODEL_DEFAULTS = {key: DEFAULTS[key] for key in CONFIG_KEYS}
# Config keys with a fixed set of values.
CONFIG_CHOICES = {"synt_type": ("dense",), "layernorm_positioning": ("post", "pre"),
                  "layernorm": ("normal", "rms", "t5", "gemma"), "feed_forward": ("dense", "gated"),
                  "mask": ("fully_visible", "causal", "causal_with_prefix"),
                  "data_processor": ("bert", "albert", "mlm", "lm", "cls", "bilm",
                                     "t5", "bart", "gsg", "mt", "prefixlm", "llm_pretrain", "llm_sft", "chat", "cls_mlm"),
                  "decoder": ("transformer",), "initializer": ("normal", "t5")}
BOOL_KEYS = ("remove_embedding_layernorm", "tie_weights", "remove_transformer_bias", "remove_attention_scale",
             "attention_qkv_bias", "qk_norm", "normalize_sentence_vectors", "rotary_position_embedding",
             "alibi_position_embedding", "has_lmtarget_bias", "layer_norm_unbiased", "share_embedding",
             "relative_position_embedding")
POSITIVE_KEYS = SHAPE_KEYS + ("attention_head_size", "local_kv_heads_num", "max_seq_length", "rope_theta",
                              "layer_norm_eps", "decoder_layers_num", "relative_attention_buckets_num",
                              "lm_hidden_scale", "embedding_scale")
REAL_KEYS = ("rope_theta", "layer_norm_eps", "lm_hidden_scale", "embedding_scale")
# TencentPretrain writes the embedding and the targets as lists of parts: what each list is here.
SUCCESSOR_EMBEDDINGS = {("word",): "word", ("pos", "word"): "word_pos", ("pos", "seg", "word"): "bert",
                        ("sinusoidalpos", "word"): "word_sinusoidalpos_tencentpretrain"}
SUCCESSOR_TARGETS = {("lm",): "lm", ("mlm",): "mlm", ("mlm", "sp"): "bert", ("cls",): "cls", ("bilm",): "bilm",
                     ("cls", "mlm"): "cls_mlm"}


def registry_choices():
    from uer.layers import str2embedding
    from uer.encoders import str2encoder
    from uer.targets import str2target
    return sorted(str2embedding), sorted(str2encoder), sorted(str2target)


def vocab_opts(parser):
    parser.add_argument("--vocab_path", default=None, help="Vocabulary file, one token per line.")
    parser.add_argument("--spm_model_path", default=None, help="Sentencepiece model (replaces --vocab_path).")
    parser.add_argument("--tokenizer_path", default=None,
                        help="HuggingFace tokenizer.json (with --tokenizer hf): its vocabulary replaces --vocab_path.")
    parser.add_argument("--merges_path", default=None,
                        help="GPT-2's merges.txt (with --tokenizer bpe; --vocab_path is then its vocab.json).")


def tokenizer_opts(parser):
    vocab_opts(parser)
    parser.add_argument("--tokenizer", choices=["bert", "char", "space", "hf", "hfpretrained", "bpe", "xlmroberta"], default="bert",
                        help="bert: Google BERT basic + WordPiece; char: characters; space: split on spaces; hf: "
                             "the HuggingFace tokenizer of --tokenizer_path; hfpretrained (TencentPretrain's name): "
                             "the one of the HF model folder --vocab_path; bpe: GPT-2's byte-level BPE "
                             "(--vocab_path vocab.json --merges_path merges.txt); xlmroberta: --spm_model_path with "
                             "fairseq's ids, as XLMRobertaTokenizer.")


def resolve_tokenizer_alias(args):
    """TencentPretrain's --tokenizer hfpretrained --vocab_path FOLDER is --tokenizer hf with the folder's
    tokenizer.json."""
    if getattr(args, "tokenizer", None) != "hfpretrained":
        return args
    folder = args.vocab_path
    if not folder or not os.path.isfile(os.path.join(folder, "tokenizer.json")):
        raise UserInputError(f"--tokenizer hfpretrained: --vocab_path {folder} must be a HuggingFace model folder "
                             "holding tokenizer.json")
    args.tokenizer, args.tokenizer_path, args.vocab_path = "hf", os.path.join(folder, "tokenizer.json"), None
    return args


def model_opts(parser, with_target=True):
    embeddings, encoders, targets = registry_choices()
    parser.add_argument("--config_path", default=DEFAULT_CONFIG, help="Model hyper-parameters (JSON).")
    parser.add_argument("--embedding", choices=embeddings, default="bert")
    parser.add_argument("--encoder", choices=encoders, default="bert")
    if with_target:
        parser.add_argument("--target", choices=targets, default="bert")
        parser.add_argument("--tie_weights", action="store_true", help="Tie word embedding and softmax weights.")
    parser.add_argument("--bidirectional", action="store_true", help="Bidirectional RNN encoders.")
    parser.add_argument("--factorized_embedding_parameterization", action="store_true",
                        help="ALBERT: embedding size independent of hidden size.")
    parser.add_argument("--parameter_sharing", action="store_true", help="ALBERT: share one layer's weights.")
    parser.add_argument("--dropout", type=float, default=0.1)
    subword_opts(parser)


def subword_opts(parser):
    parser.add_argument("--subword_type", choices=["none", "char"], default="none",
                        help="char: add to each word's embedding a vector composed from its characters.")
    parser.add_argument("--sub_vocab_path", default=None, help="Vocabulary of characters for --subword_type char.")
    parser.add_argument("--subencoder", "--subencoder_type", dest="subencoder", choices=["avg", "lstm", "gru", "cnn"],
                        default=None, help="How characters are composed into a word vector (default avg).")
    parser.add_argument("--sub_layers_num", type=int, default=2, help="Layers of the lstm/gru/cnn subencoder.")


def masking_opts(parser):
    parser.add_argument("--span_masking", action="store_true", help="SpanBERT: mask contiguous spans.")
    parser.add_argument("--span_geo_prob", type=float, default=0.2, help="Geometric p of span lengths.")
    parser.add_argument("--span_max_length", type=int, default=10, help="Longest masked span.")
    parser.add_argument("--whole_word_masking", action="store_true",
                        help="Mask whole words (all tokens of a word, one 80/10/10 draw per word); words come from "
                             "preprocess.py --segmenter.")


def tgt_vocab_opts(parser):
    parser.add_argument("--tgt_vocab_path", default=None,
                        help="Vocabulary of the target side when it differs from the source's (--target mt).")
    parser.add_argument("--tgt_spm_model_path", default=None,
                        help="Sentencepiece model of the target side (replaces --tgt_vocab_path).")


def tgt_tokenizer_opts(parser):
    tgt_vocab_opts(parser)
    parser.add_argument("--tgt_tokenizer", choices=["bert", "char", "space"], default=None,
                        help="Tokenizer of the target side (default: --tokenizer).")


def seq2seq_target_opts(parser, generation=True):
    """Target-side options of text-to-text fine-tuning and inference (generation) and of preprocess.py."""
    tgt_tokenizer_opts(parser)
    parser.add_argument("--tgt_seq_length", type=int, default=None,
                        help=("" if generation else "--target mt: ") +
                        "target tokens kept, with the end token (default: --seq_length).")
    if generation:
        parser.add_argument("--max_new_tokens", type=int, default=None,
                            help="Tokens generated at most (default: --tgt_seq_length).")


def beam_opts(parser):
    parser.add_argument("--beam_width", type=int, default=1, help="Beams of beam search (1: no beam search).")
    parser.add_argument("--length_penalty", type=float, default=1.0,
                        help="Beam search: a finished hypothesis scores sum(log p) / length^LENGTH_PENALTY.")


def seq2seq_data_opts(parser):
    seq2seq_target_opts(parser, generation=False)
    parser.add_argument("--noise_density", type=float, default=None,
                        help="Fraction of the tokens corrupted: --target t5 (default 0.15), bart (default 0.3).")
    parser.add_argument("--mean_noise_span_length", type=float, default=None,
                        help="--target t5: mean length of a corrupted span (default 3).")
    parser.add_argument("--gap_sentences_ratio", type=float, default=None,
                        help="--target gsg: fraction of the sentences masked (default 0.3).")
    parser.add_argument("--sentence_selection_strategy", choices=["principal", "lead", "random"], default=None,
                        help="--target gsg: which sentences are masked (default principal).")


def optimization_opts(parser, learning_rate=2e-5):
    parser.add_argument("--learning_rate", type=float, default=learning_rate)
    parser.add_argument("--optimizer", choices=["adamw", "adafactor"], default="adamw",
                        help="adamw: UER-py's Adam (see --bias_correction); adafactor: factored second moments, "
                             "no first moment (as UER-py's successor runs it: the given learning rate).")
    parser.add_argument("--scheduler", choices=SCHEDULES, default="linear",
                        help="Learning-rate schedule after the warm-up (HuggingFace's formulas; constant has no "
                             "warm-up); linear is UER-py's.")
    parser.add_argument("--warmup", type=float, default=0.1, help="Fraction of steps with linear warm-up.")
    parser.add_argument("--decay", type=float, default=None,
                        help="--scheduler tri_stage: fraction of the steps in its exponential decay stage.")
    parser.add_argument("--beta1", type=float, default=0.9)
    parser.add_argument("--beta2", type=float, default=0.999)
    parser.add_argument("--weight_decay", type=float, default=0.01,
                        help="Decoupled weight decay (not on bias/gamma/beta), as UER-py's later versions; "
                             "the 2020 version applied none: 0 reproduces it.")
    parser.add_argument("--bias_correction", action="store_true",
                        help="Adam with bias correction (torch/HF AdamW). Default: UER-py's and BERT's Adam "
                             "without it, whose first steps are larger; recipes tuned on UER-py assume it.")
    parser.add_argument("--fp16", action="store_true",
                        help="Mixed precision with torch.amp: fp16 + grad scaling on CUDA, bf16 on CPU.")
    parser.add_argument("--fp16_opt_level", choices=["O0", "O1", "O2", "O3"], default="O1",
                        help="apex-style level: O0 = fp32; O1/O2/O3 = torch.amp mixed precision.")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the model (inductor; on CPU it needs a C++ compiler). The first steps "
                             "take longer while it compiles.")
    parser.add_argument("--gradient_checkpointing", action="store_true",
                        help="Keep only each transformer layer's input in the forward pass and recompute the "
                             "layer in the backward pass: less activation memory for about one more forward.")


def finetune_opts(parser, output_model_path, learning_rate=2e-5, batch_size=64, epochs_num=3, seq_length=128,
                  data_paths=True):
    """The options every run_*.py shares: data, model, optimisation and reporting. Each script passes UER-py's
    defaults for it, so that a command leaving a flag out trains as it did there."""
    parser.add_argument("--pretrained_model_path", default=None, help="Pre-trained UER model to start from.")
    parser.add_argument("--output_model_path", default=output_model_path, help="Where the best model is saved.")
    tokenizer_opts(parser)
    if data_paths:
        parser.add_argument("--train_path", required=True, help="Training set.")
        parser.add_argument("--dev_path", required=True, help="Development set; the best epoch on it is kept.")
        parser.add_argument("--test_path", default=None, help="Test set, evaluated with the best model.")
    parser.add_argument("--batch_size", type=int, default=batch_size)
    parser.add_argument("--seq_length", type=int, default=seq_length,
                        help="Longest input; batches pad to their longest.")
    model_opts(parser, with_target=False)
    optimization_opts(parser, learning_rate=learning_rate)
    parser.add_argument("--epochs_num", type=int, default=epochs_num)
    parser.add_argument("--report_steps", type=int, default=100, help="Report the training loss every N steps.")
    parser.add_argument("--seed", type=int, default=7, help="Random seed.")
    parser.add_argument("--resume", action="store_true",
                        help="Continue a stopped run from OUTPUT_MODEL_PATH.resume (written after each epoch and "
                             "on SIGINT/SIGTERM; removed when the run completes).")
    adversarial_opts(parser)
    lora_opts(parser)
    team_opts(parser)
    monitor_opts(parser)


def pooled_classifier_parser(doc, output_model_path):
    """The parser of a fine-tuning script that trains the classifier's model: finetune_opts and --pooling."""
    from uer.layers.pooling import POOLINGS
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    finetune_opts(parser, output_model_path=output_model_path)
    parser.add_argument("--pooling", choices=POOLINGS, default="first", help="How the sequence vector is formed.")
    return parser


def prompt_opts(parser):
    """The prompt of run_classifier_prompt.py and its inference."""
    parser.add_argument("--prompt_path", default="models/prompts.json",
                        help="JSON file: prompt name -> {\"template\": ..., \"answer_words\": {label: word}}.")
    parser.add_argument("--prompt_id", required=True, help="Name of the prompt in --prompt_path.")


def lora_opts(parser):
    """--use_lora: low-rank adapters on a pre-trained model (uer/layers/lora.py)."""
    parser.add_argument("--use_lora", action="store_true",
                        help="Train low-rank adapters of the attention (and the task head) only; saves just those.")
    parser.add_argument("--lora_r", type=int, default=8, help="Rank of the adapters.")
    parser.add_argument("--lora_alpha", type=float, default=16, help="Adapters scaled by lora_alpha / lora_r.")
    parser.add_argument("--lora_dropout", type=float, default=0.0, help="Dropout on the adapters' input.")
    parser.add_argument("--lora_feed_forward", action="store_true", help="Adapt the feed-forward layers too.")
    parser.add_argument("--lora_pretrained_model_path", default=None,
                        help="Adapters (and head) of an earlier --use_lora run to start from.")


def adversarial_opts(parser):
    """--use_adv (the successor's flags and defaults): the word table pushed along its gradient, see
    uer/finetune/adversarial.py."""
    parser.add_argument("--use_adv", action="store_true",
                        help="Adversarial training: also learn from the loss with the word embedding pushed along "
                             "its gradient.")
    parser.add_argument("--adv_type", choices=["fgm", "pgd"], default="fgm",
                        help="fgm: one push of norm --fgm_epsilon; pgd: --pgd_k pushes of --pgd_alpha within "
                             "--pgd_epsilon.")
    parser.add_argument("--fgm_epsilon", type=float, default=1e-6, help="Norm of FGM's push of the word table.")
    parser.add_argument("--pgd_k", type=int, default=3, help="PGD's pushes per step.")
    parser.add_argument("--pgd_epsilon", type=float, default=1.0, help="Radius PGD's pushes stay within.")
    parser.add_argument("--pgd_alpha", type=float, default=0.3, help="Norm of each PGD push.")


def monitor_opts(parser):
    """Where a run's figures go besides stdout: the metrics file (always written) and TensorBoard."""
    parser.add_argument("--metrics_path", default=None,
                        help="JSON-lines file of every report and evaluation (default: "
                             "OUTPUT_MODEL_PATH.metrics.jsonl); --resume appends to it.")
    parser.add_argument("--tensorboard_dir", default=None,
                        help="Also write TensorBoard curves to this directory (needs: pip install tensorboard).")


def reading_opts(parser):
    """Options of run_cmrc.py and its inference."""
    parser.add_argument("--doc_stride", type=int, default=128, help="Context tokens between window starts.")
    parser.add_argument("--max_answer_length", type=int, default=64, help="Longest answer, in tokens.")


def inference_opts(parser, seq_length=128, prediction_file=True):
    """The options every inference/run_*_infer.py shares; seq_length: the fine-tuning script's default;
    prediction_file: whether --prediction_path is the output (False: the script names its own)."""
    parser.add_argument("--load_model_path", required=True, help="Fine-tuned model.")
    parser.add_argument("--lora_base_model_path", default=None,
                        help="The model a --use_lora run adapted: --load_model_path is then that run's file (its "
                             "adapters and task head), merged into it here as scripts/merge_lora.py does.")
    parser.add_argument("--lora_alpha", type=float, default=16, help="As in the --use_lora run (r is read from the "
                        "file).")
    tokenizer_opts(parser)
    parser.add_argument("--test_path", required=True, help="Input file.")
    if prediction_file:
        parser.add_argument("--prediction_path", required=True, help="Output file.")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--seq_length", type=int, default=seq_length, help="Longest input (as in training).")
    model_opts(parser, with_target=False)


def inference_parser(doc, pooling=None, labels_num=False, class_outputs=False, seq_length=128):
    """The parser of an inference script: inference_opts and, where the task has them, --labels_num, --pooling
    (default: the fine-tuning script's) and the logits/prob columns of a classifier."""
    from uer.layers.pooling import POOLINGS
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    inference_opts(parser, seq_length=seq_length)
    if labels_num:
        parser.add_argument("--labels_num", type=int, required=True, help="Number of labels of the model.")
    if pooling:
        parser.add_argument("--pooling", choices=POOLINGS, default=pooling, help="As in fine-tuning.")
    if class_outputs:
        parser.add_argument("--output_logits", action="store_true", help="Write the logits column.")
        parser.add_argument("--output_prob", action="store_true", help="Write the prob column.")
    return parser


def probing_opts(parser, batch_size=64, seq_length=128, files=True):
    """The options of the scripts that run a trained model over text (scripts/); `files`: --input_path and
    --output_path."""
    if files:
        parser.add_argument("--input_path", required=True, help="Input text, one item per line.")
        parser.add_argument("--output_path", required=True, help="Where the results go.")
    parser.add_argument("--pretrained_model_path", required=True, help="Trained UER model.")
    tokenizer_opts(parser)
    parser.add_argument("--batch_size", type=int, default=batch_size)
    parser.add_argument("--seq_length", type=int, default=seq_length, help="Longest input.")
    model_opts(parser, with_target=False)


def generation_parser(doc, files=True):
    """The parser of the generation scripts: a trained lm model over input text, and the decoding flags."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    probing_opts(parser, files=files)
    parser.add_argument("--target", choices=["lm"], default="lm")
    sampling_opts(parser)
    return parser


def sampling_opts(parser):
    """The decoding flags of the generation scripts (uer/generation/search.py)."""
    parser.add_argument("--top_k", type=int, default=1, help="1: greedy; 0: no top-k cut.")
    parser.add_argument("--top_p", type=float, default=1.0, help="Nucleus sampling mass (1.0: no cut).")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max_new_tokens", type=int, default=None,
                        help="Tokens to generate at most (default: until the text has --seq_length tokens; the "
                             "whole text stays within --seq_length).")


def smoke_opts(parser):
    parser.add_argument("--smoke", action="store_true",
                        help="Tiny sizes and a step or two: checks that the script runs (the test suite runs it).")


def parse_benchmark(parser, **smoke):
    """A benchmark script's arguments; with --smoke, the values of `smoke` (tiny sizes, a step or two) replace
    the parsed ones, so that the test suite runs every benchmark's paths in seconds."""
    smoke_opts(parser)
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(smoke)
    return args


def conversion_parser(doc, input_help, output_help, layers=True):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    conversion_opts(parser, input_help, output_help, layers)
    return parser


def conversion_opts(parser, input_help, output_help, layers=True):
    parser.add_argument("--input_model_path", required=True, help=input_help)
    parser.add_argument("--output_model_path", required=True, help=output_help)
    if layers:
        parser.add_argument("--layers_num", type=int, default=None, help="Encoder layers (default: from the weights).")


def distributed_opts(parser):
    parser.add_argument("--world_size", type=int, default=1, help="Total number of processes.")
    parser.add_argument("--gpu_ranks", default=[], nargs="+", type=int,
                        help="Global ranks of the processes on this node (one per GPU).")
    parser.add_argument("--master_ip", default="tcp://localhost:12345", help="Rendezvous address of rank 0.")
    team_opts(parser)


def team_opts(parser):
    """How processes train together (pretrain.py's own, or torchrun's for every script)."""
    parser.add_argument("--backend", choices=["nccl", "gloo"], default="nccl",
                        help="Collectives between GPU processes (under torchrun, processes on the CPU use gloo).")
    parser.add_argument("--fsdp", action="store_true",
                        help="Shard parameters, gradients and optimizer state over the processes (FSDP2: each "
                             "transformer layer a unit); checkpoints stay single UER files.")
    parser.add_argument("--dist_timeout", type=int, default=600,
                        help="Seconds to wait for the other processes (joining, and each collective) before "
                             "ending with an error.")


def _explicit_keys(parser, argv):
    """Names of options the user actually typed (so they can win over the config file)."""
    quiet = argparse.ArgumentParser(add_help=False)
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            kwargs = {"dest": action.dest, "default": argparse.SUPPRESS}
            if action.nargs == 0:
                kwargs["action"] = "store_const"
                kwargs["const"] = action.const
            else:
                kwargs["nargs"] = action.nargs
            quiet.add_argument(*action.option_strings, **kwargs)
    known, _ = quiet.parse_known_args(argv)
    return set(vars(known))


def load_config(path):
    """A config file's keys, its values checked (hidden_act, layer norm, ...), TencentPretrain's spellings
    translated (see translate_successor_keys)."""
    config = read_json_object(path, "config of hyper-parameters")
    translate_successor_keys(config, path)
    check_config_values(config, path)
    from uer.layers.position import POSITION_FLAGS, position_scheme
    scheme = position_scheme(config, path)  # "position" or TencentPretrain's boolean: the boolean set either way
    if scheme:
        config[POSITION_FLAGS[scheme]] = True
    return config


def tencentpretrain_form(config):
    """True for a config in the form TencentPretrain and UER-py since 2023 write (the embedding a list of
    parts): its keys then mean what they mean there (translate_successor_keys)."""
    return isinstance(config.get("embedding"), list)


def successor_form(config):
    """True for a config written as TencentPretrain writes them (a list of embeddings, the transformer encoder)."""
    return isinstance(config.get("embedding"), list) or config.get("encoder") == "transformer"


def translate_successor_keys(config, path):
    """TencentPretrain's spellings as this project's, in place, keeping their meaning:
    - "embedding": ["word", "pos", "seg"] (any order) -> bert, ["word", "pos"] -> word_pos, ["word"] -> word;
    - "target": ["mlm", "sp"] -> bert (albert with "data_processor": "albert"), ["lm"] -> lm, ...;
    - "layernorm_eps" -> layer_norm_eps; its "normal" layer norm is UER-py's 2020 formula (layer_norm_unbiased);
    - no "has_lmtarget_bias": its LM output layer has no bias there (here, by default, it has one, as UER-py's).
    And where a TencentPretrain-form config (tencentpretrain_form) means something else than the same keys in a
    2020-form one, the meaning is made explicit:
    - its MLM head applies the config's hidden_act ("mlm_hidden_act"; UER-py 2020 always applied gelu);
    - ["word", "sinusoidalpos"] is its own sinusoidal embedding (word_sinusoidalpos_tencentpretrain; the string
      "word_sinusoidalpos" is transformers' Pegasus layout);
    - "share_embedding" with "tie_weights" in an encoder-decoder: there the output layer is tied to the target
      embedding before that embedding is replaced by the source's, so it keeps a table of its own: untied here.
    """
    def one_of(key, table, what):
        value = config.get(key)
        if not isinstance(value, list):
            return
        parts = tuple(sorted(value))
        if parts not in table:
            raise UserInputError(f"{path}: {key} {json.dumps(value)} is not supported; {what}: "
                                 f"{'; '.join(json.dumps(list(k)) for k in table)}")
        config[key] = table[parts]
    successor, listed = successor_form(config), tencentpretrain_form(config)
    if listed:
        config.setdefault("mlm_hidden_act", config.get("hidden_act", "gelu"))
        if config.get("decoder") and config.get("share_embedding") and config.get("tie_weights"):
            config["tie_weights"] = False
    one_of("embedding", SUCCESSOR_EMBEDDINGS, "the embeddings built here are")
    one_of("tgt_embedding", SUCCESSOR_EMBEDDINGS, "the embeddings built here are")
    one_of("target", SUCCESSOR_TARGETS, "the target lists understood here are")
    if config.get("target") == "bert" and config.get("data_processor") == "albert":
        config["target"] = "albert"
    if "layernorm_eps" in config:
        eps = config.pop("layernorm_eps")
        if "layer_norm_eps" in config and config["layer_norm_eps"] != eps:
            raise UserInputError(f"{path}: layernorm_eps {eps} and layer_norm_eps {config['layer_norm_eps']} differ; "
                                 "give one")
        config["layer_norm_eps"] = eps
        config.setdefault("layer_norm_unbiased", True)
    if successor:
        config.setdefault("has_lmtarget_bias", False)


def check_layer_norm_keys(config, path):
    """The one rule for which layer norm a config means:
    - no layer-norm key (every UER-py config): the 2020 formula, unbiased std + 1e-6;
    - "layer_norm_unbiased": true / false picks it / the fused standard one (Google, HF: biased variance, eps
      inside the square root), "layer_norm_eps" its eps;
    - "layer_norm_eps" alone is refused: this project's configs before the 2020 formula became the default
      wrote it meaning the fused kernel, so it cannot be read either way without saying so.
    """
    if "layer_norm_unbiased" in config and not isinstance(config["layer_norm_unbiased"], bool):
        raise UserInputError(f"{path}: layer_norm_unbiased must be true or false, not "
                             f"{json.dumps(config['layer_norm_unbiased'])}")
    if "layer_norm_eps" in config and "layer_norm_unbiased" not in config and \
            config.get("layernorm", "normal") == "normal":
        raise UserInputError(f"{path}: layer_norm_eps without layer_norm_unbiased; add \"layer_norm_unbiased\": "
                             f"false for the standard fused layer norm (what configs written by this project before "
                             f"2026-11 meant, and Google/HF models), or true for UER-py's 2020 formula")


def check_rope_scaling(scaling, path):
    """"rope_scaling": null, or {"rope_type": one of ROPE_SCALINGS, and that type's positive numbers}."""
    from uer.layers.position import ROPE_SCALING_KEYS
    if scaling is None:
        return
    kind = scaling.get("rope_type") if isinstance(scaling, dict) else None
    if kind not in ROPE_SCALING_KEYS:
        raise UserInputError(f"{path}: rope_scaling {json.dumps(scaling)}: expected {{\"rope_type\": one of "
                             f"{', '.join(ROPE_SCALING_KEYS)}, ...}}")
    needed = ROPE_SCALING_KEYS[kind]
    bad = [k for k in needed if isinstance(scaling.get(k), bool) or not isinstance(scaling.get(k), (int, float))
           or scaling[k] <= 0]
    unknown = sorted(set(scaling) - set(needed) - {"rope_type"})
    if bad or unknown:
        raise UserInputError(f"{path}: rope_scaling {kind} takes the positive numbers {', '.join(needed)}"
                             + (f"; {', '.join(bad)} missing or not positive" if bad else "")
                             + (f"; unknown {', '.join(unknown)}" if unknown else ""))


def check_config_values(config, path):
    from uer.layers.position_ffn import ACTIVATIONS
    choices = dict(CONFIG_CHOICES, hidden_act=tuple(ACTIVATIONS), mlm_hidden_act=tuple(ACTIVATIONS))
    for key, allowed in choices.items():
        if key in config and config[key] not in allowed:
            raise UserInputError(f"{path}: {key} {json.dumps(config[key])} is not supported; expected one of "
                                 f"{', '.join(allowed)}")
    embeddings, encoders, targets = registry_choices()
    for key, allowed in (("embedding", embeddings), ("tgt_embedding", embeddings), ("encoder", encoders),
                         ("target", targets)):
        if key in config and config[key] not in allowed:
            raise UserInputError(f"{path}: {key} {json.dumps(config[key])} is not supported; expected one of "
                                 f"{', '.join(allowed)}")
    check_layer_norm_keys(config, path)
    check_rope_scaling(config.get("rope_scaling"), path)
    for key in BOOL_KEYS:
        if key in config and not isinstance(config[key], bool):
            raise UserInputError(f"{path}: {key} must be true or false, not {json.dumps(config[key])}")
    for key in POSITIVE_KEYS:
        value, real = config.get(key), key in REAL_KEYS
        if value is not None and (isinstance(value, bool) or not isinstance(value, (float, int) if real else int)
                                  or value <= 0):
            raise UserInputError(f"{path}: {key} must be a positive {'number' if real else 'integer'}, "
                                 f"not {json.dumps(value)}")
    for key in ("position_offset", "decoder_start_token_id"):
        value = config.get(key, 0)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise UserInputError(f"{path}: {key} must be an integer >= 0, not {json.dumps(value)}")


# Keys that describe the whole model (a converted GPT-2's config names them); a script without a pre-training
# target (fine-tuning, inference) has no use for "target"/"tie_weights" and may ignore them without a warning;
# pretrain.py checks "data_processor" (TencentPretrain's name for what preprocess.py --target made) against the
# dataset.
MODEL_DESCRIPTION_KEYS = {"embedding", "encoder", "target", "tie_weights", "data_processor"}
# TencentPretrain keys that change nothing there, and so nothing here: "layer_number_scale" (its bloom configs)
# scales attention scores by 1 / layer number and back, and its encoder never passes the layer number.
NO_EFFECT_KEYS = {"layer_number_scale"}


def known_config_keys(parser):
    return set(MODEL_DEFAULTS) | set(SHAPE_KEYS) | set(CONFIG_CHOICES) | MODEL_DESCRIPTION_KEYS | NO_EFFECT_KEYS | \
        {a.dest for a in parser._actions}


def apply_config(args, parser, argv=None):
    """Fill model hyper-parameters: defaults < config file < flags typed on the command line.

    Unlike UER-py, where the config's dropout won even over a typed --dropout, a typed flag wins here."""
    path = getattr(args, "config_path", None)
    config = load_config(path) if path else {}
    explicit = _explicit_keys(parser, argv)
    known = known_config_keys(parser)
    for key, value in dict(dict.fromkeys(SHAPE_KEYS), **MODEL_DEFAULTS).items():
        if not hasattr(args, key):
            setattr(args, key, value)
    for key, value in config.items():
        if key not in known:
            print(f"warning: {path}: key {key!r} is not a setting of this script; ignored", file=sys.stderr)
            continue
        if key in explicit:
            continue
        setattr(args, key, value)
    return args


def parse(parser, argv=None):
    args = resolve_tokenizer_alias(parser.parse_args(argv))
    if hasattr(args, "config_path"):
        apply_config(args, parser, argv)
    return args
