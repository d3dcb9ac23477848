"""Positions inside attention, for the configs that ask for them instead of a learned position embedding
("position": one of str2position, or TencentPretrain's boolean of it):

- "rotary_position_embedding": RoPE (Su et al.; LLaMA). Queries and keys are rotated by position-dependent
  angles, pairing dimension i with i + head_size / 2 (HuggingFace's layout); "rope_theta" is the base (10000).
  "rope_scaling" stretches the frequencies for longer contexts (ROPE_SCALINGS).
- "alibi_position_embedding": ALiBi (Press et al.; BLOOM). Each head adds slope_h * (j - i) to the score of
  query i for key j; the slopes are BLOOM's geometric sequence.
"""
import math

import torch
import torch.nn as nn

from uer.core.errors import UserInputError
from uer.core.model_config import model_config


def rope_frequencies(head_size, base):
    return 1.0 / (base ** (torch.arange(0, head_size, 2, dtype=torch.int64).float() / head_size))


def linear_scaling(inv_freq, scaling, head_size, base, seq_length):
    """Positions divided by "factor" (transformers' "linear")."""
    return inv_freq / scaling["factor"]


def dynamic_scaling(inv_freq, scaling, head_size, base, seq_length):
    """Dynamic NTK (transformers' "dynamic"): past "original_max_position_embeddings" the base grows with the
    sequence's length (start + length of the forward pass, as transformers counts it)."""
    original = scaling["original_max_position_embeddings"]
    if seq_length <= original:
        return inv_freq
    factor = scaling["factor"]
    length = torch.tensor(seq_length)  # float32 arithmetic on a tensor, as transformers computes it
    stretched = base * ((factor * length / original) - (factor - 1)) ** (head_size / (head_size - 2))
    return rope_frequencies(head_size, stretched)


def llama3_scaling(inv_freq, scaling, head_size, base, seq_length):
    """Llama 3.1's (transformers' "llama3"): wavelengths past original / low_freq_factor divided by "factor",
    those below original / high_freq_factor kept, a smooth mix between."""
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    original = scaling["original_max_position_embeddings"]
    wavelength = 2 * math.pi / inv_freq
    scaled = torch.where(wavelength > original / low, inv_freq / factor, inv_freq)
    smooth = (original / wavelength - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelength < original / high) * ~(wavelength > original / low)
    return torch.where(medium, smoothed, scaled)


# "rope_scaling": {"rope_type": NAME, ...}: how the rotary frequencies are stretched for longer contexts (as
# transformers' rope_type of the same name); each takes (inv_freq, the config's dict, head size, base, the
# forward pass's sequence length). Adding one: a function and a line here (and its keys in ROPE_SCALING_KEYS).
ROPE_SCALINGS = {"linear": linear_scaling, "dynamic": dynamic_scaling, "llama3": llama3_scaling}
ROPE_SCALING_KEYS = {"linear": ("factor",), "dynamic": ("factor", "original_max_position_embeddings"),
                     "llama3": ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")}


class RotaryEmbedding(nn.Module):
    """cos and sin [length, head_size] of positions start .. start + length - 1, computed in fp32 as
    HuggingFace's LlamaRotaryEmbedding computes them (no parameters: nothing in the checkpoint); "rope_scaling"
    one of ROPE_SCALINGS."""

    def __init__(self, head_size, base=10000.0, scaling=None):
        super().__init__()
        if head_size % 2:
            raise ValueError(f"rotary_position_embedding needs an even head size, not {head_size}")
        self.head_size, self.base, self.scaling = head_size, base, scaling
        self.stretch = ROPE_SCALINGS[scaling["rope_type"]] if scaling else None
        inv_freq = rope_frequencies(head_size, base)
        if self.stretch is not None and self.stretch is not dynamic_scaling:
            inv_freq = self.stretch(inv_freq, scaling, head_size, base, None)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def frequencies(self, seq_length, device):
        if self.stretch is dynamic_scaling:
            return dynamic_scaling(self.inv_freq, self.scaling, self.head_size, self.base, seq_length).to(device)
        return self.inv_freq.to(device)

    def forward(self, start, length, device):
        if self.stretch is not dynamic_scaling:  # the angles of positions 0 .. n-1 kept, sliced (decoding)
            table = self.table(start + length, device)
            return table[0][start:start + length], table[1][start:start + length]
        positions = torch.arange(start, start + length, device=device, dtype=torch.float32)
        return self.angles(positions, start + length)

    def table(self, length, device):
        cached = getattr(self, "_table", None)
        if cached is None or cached[0].size(0) < length or cached[0].device != device or torch.is_inference(
                cached[0]) != torch.is_inference_mode_enabled():
            size = max(length, 2 * cached[0].size(0) if cached is not None else 256)
            with torch.no_grad():
                cached = self.angles(torch.arange(size, device=device, dtype=torch.float32), size)
            self._table = cached
        return cached

    def at(self, positions):
        """cos and sin [batch, 1, length, head_size] of positions [batch, length] (packed rows, left padding)."""
        cos, sin = self.angles(positions.float(), int(positions.max()) + 1 if positions.numel() else 0)
        return cos[:, None], sin[:, None]

    def angles(self, positions, seq_length):
        device = positions.device
        with torch.autocast(device.type, enabled=False):
            freqs = positions[..., None] * self.frequencies(seq_length, device)
            angles = torch.cat([freqs, freqs], -1)
            return angles.cos(), angles.sin()


def rotate_half(x):
    first, second = x.chunk(2, -1)
    return torch.cat([-second, first], -1)


def apply_rotary(x, cos, sin):
    """x [batch, heads, length, head_size] rotated by the angles of its positions."""
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return x * cos + rotate_half(x) * sin


def alibi_slopes(heads_num):
    """BLOOM's slopes: 2^(-8 i / n) for the largest power of two n <= heads, then every other slope of 2n."""
    closest = 2 ** math.floor(math.log2(heads_num))
    base = 2.0 ** (-(2.0 ** -(math.log2(closest) - 3)))
    slopes = [base ** i for i in range(1, closest + 1)]
    if closest < heads_num:
        extra = 2.0 ** (-(2.0 ** -(math.log2(2 * closest) - 3)))
        slopes += [extra ** i for i in range(1, 2 * (heads_num - closest), 2)]
    return torch.tensor(slopes)


def alibi_bias(slopes, start, length, keys, device):
    """[heads, length, keys]: slope_h * (j - i) for queries i = start .. start + length - 1 and keys j. Under the
    softmax this equals BLOOM's slope_h * j (a constant per row)."""
    rows = torch.arange(start, start + length, device=device)
    distance = (torch.arange(keys, device=device)[None, :] - rows[:, None]).float()
    return slopes.to(device)[:, None, None] * distance


class RelativePositionBias(nn.Module):
    """T5's relative position bias ("relative_position_embedding"): a learned scalar per head for each bucket of
    key - query distance, added to the attention scores of every layer of one stack. Bidirectional buckets
    (the encoder) split the buckets between the two directions; unidirectional ones (the decoder) see only
    the past. Half the buckets are exact distances, the rest logarithmic up to max_distance."""

    def __init__(self, heads_num, buckets_num=32, bidirectional=True, max_distance=128):
        super().__init__()
        self.buckets_num, self.bidirectional, self.max_distance = buckets_num, bidirectional, max_distance
        self.relative_attention_bias = nn.Embedding(buckets_num, heads_num)

    def buckets(self, relative):
        buckets_num, out = self.buckets_num, torch.zeros_like(relative)
        if self.bidirectional:
            buckets_num //= 2
            out = out + (relative > 0).long() * buckets_num
            relative = relative.abs()
        else:
            relative = -torch.clamp(relative, max=0)
        exact = buckets_num // 2
        large = exact + (torch.log(relative.float() / exact) / math.log(self.max_distance / exact)
                         * (buckets_num - exact)).long()
        large = torch.clamp(large, max=buckets_num - 1)
        return out + torch.where(relative < exact, relative, large)

    def forward(self, start, length, keys, device):
        """[1, heads, length, keys] for queries start .. start + length - 1 and keys 0 .. keys - 1."""
        queries = torch.arange(start, start + length, device=device)[:, None]
        relative = torch.arange(keys, device=device)[None, :] - queries
        return self.relative_attention_bias(self.buckets(relative)).permute(2, 0, 1)[None]


# --- position schemes: how a transformer stack puts positions into its attention ("position" in a config, or
# TencentPretrain's boolean of the scheme). Each is a module the stack holds, with rotations() (the (cos, sin)
# rotating queries and keys) and bias() (added to the scores); adding one is a class and a line in str2position
# (and its TencentPretrain boolean in POSITION_FLAGS, if it has one).

class PositionScheme(nn.Module):
    adds_bias = False  # whether the scores get a bias (the attention then needs an explicit mask)
    replaces_table = True  # whether it stands instead of a learned position table (refused beside one)

    def rotations(self, past, seq, device):
        return None

    def rotations_at(self, positions):
        """rotations() for positions [batch, seq] of their own (packed rows, left padding)."""
        return None

    def bias(self, past, seq, device):
        return None

    @staticmethod
    def attribute(stack):
        """Where the stack holds it: its name in the state keys."""
        return "positions_in_attention"

    @classmethod
    def check(cls, args, where):
        """Refuse a config this scheme cannot serve."""


class RotaryPositions(PositionScheme):
    """RoPE: the scheme of "rotary_position_embedding" (RotaryEmbedding, "rope_theta", "rope_scaling")."""

    def __init__(self, args, stack):
        args = model_config(args)
        super().__init__()
        self.rotary = RotaryEmbedding(head_size_of(args), args.rope_theta, args.rope_scaling)

    def rotations(self, past, seq, device):
        return self.rotary(past, seq, device)

    def rotations_at(self, positions):
        return self.rotary.at(positions)

    @classmethod
    def check(cls, args, where):
        if head_size_of(args) % 2:
            raise UserInputError(f"{where}: rotary_position_embedding needs an even head size")


class AlibiPositions(PositionScheme):
    """ALiBi: the scheme of "alibi_position_embedding"."""
    adds_bias = True

    def __init__(self, args, stack):
        super().__init__()
        self.register_buffer("slopes", alibi_slopes(args.heads_num), persistent=False)

    def bias(self, past, seq, device):
        return alibi_bias(self.slopes, past, seq, past + seq, device)[None]


class RelativePositions(RelativePositionBias, PositionScheme):
    """T5's relative position bias: the scheme of "relative_position_embedding"; one table per stack, under the
    stack's own name (`relative_pos_emb`, a decoder's `self_pos_emb`), bidirectional in a stack that is not
    causal."""
    adds_bias, replaces_table = True, False

    def __init__(self, args, stack):
        super().__init__(args.heads_num, args.relative_attention_buckets_num, bidirectional=not stack.causal)

    def bias(self, past, seq, device):
        return self(past, seq, past + seq, device)

    @staticmethod
    def attribute(stack):
        return stack.relative_name


str2position = {"rotary": RotaryPositions, "alibi": AlibiPositions, "relative": RelativePositions}
POSITION_FLAGS = {"rotary": "rotary_position_embedding", "alibi": "alibi_position_embedding",
                  "relative": "relative_position_embedding"}


def head_size_of(args):
    args = model_config(args)
    return args.attention_head_size or args.hidden_size // args.heads_num


def position_scheme(config, where="the config"):
    """The name of the scheme a config (a dict or an args namespace) asks for, or None (positions come from the
    embedding): its "position", or TencentPretrain's boolean of one; refused when it asks for more than one."""
    values = config if isinstance(config, dict) else vars(config)
    flagged = [name for name, flag in POSITION_FLAGS.items() if values.get(flag)]
    named = values.get("position")
    if len(flagged) > 1 or (named and flagged and flagged != [named]):
        asked = [f"position {named!r}"] * bool(named) + [POSITION_FLAGS[n] for n in flagged if n != named]
        raise UserInputError(f"{where}: {' and '.join(asked)}: each puts positions into the attention; choose one")
    if named and named not in str2position:
        raise UserInputError(f"{where}: position {named!r} is not one of {', '.join(str2position)}")
    return named or (flagged[0] if flagged else None)
