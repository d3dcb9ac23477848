"""The two key layouts of a UER model file, and the one table between them.

- "uer": UER-py 2020's names, which this project writes (`embedding.word_embedding.weight`,
  `target.mlm_linear_1.weight`, `target.output_layer.weight`, ...).
- "tencentpretrain": what UER-py's code since 2023 and TencentPretrain write, whose embeddings and targets are
  lists of named parts (`embedding.word.embedding.weight`, `target.mlm.linear_1.weight`,
  `target.lm.output_layer.weight`, `target.sp.*` for BERT's and ALBERT's sentence head, ...). Their layer keys
  are this project's, with two differences handled here:
  - T5's relative position table: TencentPretrain's forward reads the one each encoder layer holds
    (`encoder.transformer.{i}.relative_pos_emb.*`, one module shared by the layers) and saves an unused
    `encoder.relative_pos_emb.*` beside it; UER-py's forward reads `encoder.relative_pos_emb.*`. The per-layer
    table is taken when the file has it, else the stack's.
  - Rotary layers (LLaMA): TencentPretrain rotates adjacent pairs (2i, 2i + 1) of each head, this project
    (and HuggingFace) dimension i with i + head_size / 2; the query and key rows are reordered between the two.

A file's layout is told by its keys; loading maps it to "uer" once (model_loader.load_model), and
scripts/convert_model_layout.py writes either.
"""
import re

# (TencentPretrain's prefix, this project's prefix); "{sp}" is nsp (BERT) or sop (ALBERT)
RENAMES = (("embedding.word.embedding.", "embedding.word_embedding."),
           ("embedding.pos.embedding.", "embedding.position_embedding."),
           ("embedding.seg.embedding.", "embedding.segment_embedding."),
           ("tgt_embedding.word.embedding.", "tgt_embedding.word_embedding."),
           ("tgt_embedding.pos.embedding.", "tgt_embedding.position_embedding."),
           ("tgt_embedding.seg.embedding.", "tgt_embedding.segment_embedding."),
           ("target.mlm.linear_1.", "target.mlm_linear_1."),
           ("target.mlm.layer_norm.", "target.layer_norm."),
           ("target.mlm.linear_2.", "target.mlm_linear_2."),
           ("target.sp.linear_1.", "target.{sp}_linear_1."),
           ("target.sp.linear_2.", "target.{sp}_linear_2."),
           ("target.lm.output_layer.", "target.output_layer."),
           ("target.bilm.output_layer.", "target.output_layer."),
           ("target.cls.linear_1.", "target.linear_1."),
           ("target.cls.linear_2.", "target.linear_2."))
LAYER_RELATIVE = re.compile(r"encoder\.transformer\.(?:(\d+)\.)?relative_pos_emb\.(.+)$")
STACK_RELATIVE = "encoder.relative_pos_emb."
ROTATED = re.compile(r"encoder\.transformer\.(?:\d+\.)?self_attn\.linear_layers\.([01])\.(weight|bias)$")
# The sentence heads of the two targets that have one, and the output layer of each LM-like target.
SENTENCE_TASKS = ("nsp", "sop")
TARGET_PARTS = {"lm": ("lm",), "bilm": ("bilm",), "bert": ("mlm",), "albert": ("mlm",), "mlm": ("mlm",),
                "cls": ("cls",), "cls_mlm": ("mlm", "cls")}


def layout_of(keys):
    """"tencentpretrain" when any key is one of its embedding or target names, else "uer"."""
    successor = tuple(old for old, _ in RENAMES)
    return "tencentpretrain" if any(k.startswith(successor) for k in keys) else "uer"


def to_uer(state, sentence_task="nsp", rotary_heads=None):
    """(state in this project's names, what was done: a list of short phrases). sentence_task: the target's
    (nsp or sop) for `target.sp.*`; rotary_heads: (heads, key/value heads) of a model with rotary layers, whose
    query/key rows are reordered from adjacent pairs to halves."""
    if layout_of(state) == "uer":
        return state, []
    out, renamed = {}, set()
    relative = {m.group(2): v for k, v in state.items() for m in [LAYER_RELATIVE.match(k)]
                if m and m.group(1) in (None, "0")}
    for key, value in state.items():
        if LAYER_RELATIVE.match(key) or (relative and key.startswith(STACK_RELATIVE)):
            continue
        for old, new in RENAMES:
            if key.startswith(old):
                key = new.format(sp=sentence_task) + key[len(old):]
                renamed.add(f"{old}* -> {new.format(sp=sentence_task)}*")
                break
        out[key] = value
    for rest, value in relative.items():
        out[STACK_RELATIVE + rest] = value
    done = [f"{len(renamed)} name families renamed ({'; '.join(sorted(renamed))})"]
    if relative:
        done.append("the relative position table read from encoder.transformer.0.relative_pos_emb")
    if rotary_heads and reorder_rotary(out, rotary_heads, to_halves=True):
        done.append("rotary query/key rows reordered from adjacent pairs to halves")
    return out, done


def to_tencentpretrain(state, target="lm", rotary_heads=None):
    """state (this project's names) in TencentPretrain's; target: the model's pre-training target (which names
    its output layer and sentence head)."""
    parts = tuple(f"target.{part}." for part in TARGET_PARTS.get(target, ("lm",)))
    inverse = [(new.format(sp=task), old) for old, new in RENAMES for task in SENTENCE_TASKS
               if old.startswith(("embedding.", "tgt_embedding.", "target.sp.") + parts)]
    out = {}
    for key, value in state.items():
        for new, old in inverse:
            if key.startswith(new):
                key = old + key[len(new):]
                break
        out[key] = value
    layers = sorted({m.group(1) for k in state for m in [re.match(r"encoder\.transformer\.(\d+)\.", k)] if m})
    for key, value in state.items():
        if key.startswith(STACK_RELATIVE):
            for i in layers or [None]:
                prefix = f"encoder.transformer.{i}." if i is not None else "encoder.transformer."
                out[prefix + "relative_pos_emb." + key[len(STACK_RELATIVE):]] = value
    if rotary_heads:
        reorder_rotary(out, rotary_heads, to_halves=False)
    return out


def reorder_rotary(state, heads, to_halves):
    """In place: the query (linear_layers.0) and key (linear_layers.1) rows of every self-attention, per head,
    from adjacent rotary pairs to halves or back. Returns how many tensors were reordered."""
    heads_num, kv_heads_num = heads
    count = 0
    for key in list(state):
        m = ROTATED.match(key)
        if m:
            state[key] = reorder_rows(state[key], heads_num if m.group(1) == "0" else kv_heads_num, to_halves)
            count += 1
    return count


def reorder_rows(w, heads, to_halves):
    """Rows of a projection [heads * head_size, ...] of pairs (2i, 2i + 1) as (i, i + head_size / 2), or back."""
    rows, rest = w.shape[0], w.shape[1:]
    size = rows // heads
    if to_halves:
        return w.reshape(heads, size // 2, 2, *rest).transpose(1, 2).reshape(rows, *rest).contiguous()
    return w.reshape(heads, 2, size // 2, *rest).transpose(1, 2).reshape(rows, *rest).contiguous()


def may_rotate(state):
    """Whether a TencentPretrain-layout state could come from a model with rotary layers: self-attention and
    neither a position table nor T5's relative one (only its config can tell LLaMA's from BLOOM's)."""
    return any(ROTATED.match(k) for k in state) and not any(
        k.startswith(("embedding.pos.", "encoder.relative_pos_emb.")) or LAYER_RELATIVE.match(k) for k in state)


def rotary_heads_of(config):
    """(heads, key/value heads) of a config (a dict or an args namespace) with rotary layers, else None."""
    config = config if isinstance(config, dict) else vars(config)
    if not config.get("rotary_position_embedding"):
        return None
    return config["heads_num"], config.get("local_kv_heads_num") or config["heads_num"]


def successor_names(key):
    """The names this project's key may have in TencentPretrain's layout (an output layer's depends on the
    target), or (key,) where the layouts agree."""
    names = [old + key[len(new.format(sp=task)):] for old, new in RENAMES for task in SENTENCE_TASKS
             if key.startswith(new.format(sp=task))]
    return tuple(dict.fromkeys(names)) or (key,)
