"""The model's configuration, typed: every key a model is built from, with its default, said once here. uer/opts.py
fills it from defaults < config file < typed flags; the builder and the blocks read it (model_config(args) makes
one of any args namespace: what the namespace lacks takes the default here, and what it holds besides, such as a
task's labels_num, stays readable on it)."""
import copy
from dataclasses import dataclass, fields
from typing import Optional


@dataclass
class ModelConfig:
    # sizes: from the config file (its encoder says which it needs)
    emb_size: Optional[int] = None
    hidden_size: Optional[int] = None
    feedforward_size: Optional[int] = None
    heads_num: Optional[int] = None
    layers_num: Optional[int] = None
    # what is built: flags of the scripts, or the config's
    embedding: str = "bert"
    encoder: str = "bert"
    target: str = "bert"
    tie_weights: bool = False
    bidirectional: bool = False
    factorized_embedding_parameterization: bool = False
    parameter_sharing: bool = False
    subword_type: str = "none"
    subencoder: Optional[str] = None
    sub_layers_num: int = 2
    # config keys (uer/opts.py's MODEL_DEFAULTS are these)
    dropout: float = 0.1
    hidden_act: str = "gelu"
    layer_norm_eps: float = 1e-6
    layer_norm_unbiased: bool = True
    max_seq_length: int = 512
    kernel_size: int = 3
    block_size: int = 2
    layernorm_positioning: str = "post"
    remove_embedding_layernorm: bool = False
    # transformer blocks (TencentPretrain's keys; docs/models.md): the defaults are BERT's
    layernorm: str = "normal"
    feed_forward: str = "dense"
    remove_transformer_bias: bool = False
    remove_attention_scale: bool = False
    attention_head_size: Optional[int] = None
    local_kv_heads_num: Optional[int] = None
    attention_qkv_bias: Optional[bool] = None
    qk_norm: bool = False
    rotary_position_embedding: bool = False
    rope_theta: float = 10000.0
    alibi_position_embedding: bool = False
    position: Optional[str] = None
    mask: Optional[str] = None
    has_lmtarget_bias: Optional[bool] = None
    rope_scaling: Optional[dict] = None
    # encoder-decoder models
    decoder: Optional[str] = None
    decoder_layers_num: Optional[int] = None
    tgt_embedding: Optional[str] = None
    share_embedding: bool = False
    relative_position_embedding: bool = False
    relative_attention_buckets_num: int = 32
    lm_hidden_scale: float = 1.0
    embedding_scale: float = 1.0
    normalize_sentence_vectors: bool = False
    position_offset: int = 0
    decoder_start_token_id: Optional[int] = None
    initializer: str = "normal"
    mlm_hidden_act: str = "gelu"


FIELDS = tuple(f.name for f in fields(ModelConfig))
SHAPE_KEYS = FIELDS[:FIELDS.index("embedding")]
CONFIG_KEYS = FIELDS[FIELDS.index("dropout"):]  # those only a config file sets
DEFAULTS = {f.name: f.default for f in fields(ModelConfig)}


def model_config(args, **overrides):
    """The ModelConfig of an args namespace (itself when it is one; the defaults for None); overrides: keys of a
    copy that differ (the caller's args stay as they are)."""
    if isinstance(args, ModelConfig):
        config = copy.copy(args) if overrides else args
    elif args is None:
        config = ModelConfig()
    else:
        given = vars(args)
        config = ModelConfig(**{k: given[k] for k in FIELDS if k in given})
        for key, value in given.items():
            if key not in DEFAULTS:
                setattr(config, key, value)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config
