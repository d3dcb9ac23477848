import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from uer.layers.dropout import dropout
from uer.layers.layer_norm import layer_norm_from_args
from uer.core.model_config import model_config


def embedding_layer_norm(args):
    """The embedding's layer norm, or None with "remove_embedding_layernorm": true (GPT-2 has none)."""
    args = model_config(args)
    if args.remove_embedding_layernorm:
        return None
    return layer_norm_from_args(args, args.emb_size)


def normalise(module, emb):
    emb = module.layer_norm(emb) if module.layer_norm is not None else emb
    return dropout(emb, module.dropout, module.training)


class WordLookup(nn.Embedding):
    """The word table: an nn.Embedding whose backward can give the looked-up rows' gradient alone."""

    rows_only_gradient = False

    def forward(self, ids):
        return F.embedding(ids, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                           self.sparse or self.rows_only_gradient)


def add_lookup_gradients_into_output_layer(model, weight):
    """For a word table that is also the output layer's weight (tied): its lookups' backward hands the autograd
    engine a sparse gradient of the looked-up rows, which the engine adds into the output layer's dense gradient
    of the same tensor, instead of a dense [vocab, emb] table of zeros per lookup, scattered into and summed
    (BART-base: two 154 MB tables written and read again each step). A hook makes the accumulated gradient dense in
    any case (an output layer that saw no targets), so that optimizers, clipping and DDP see what they always
    saw; `sparse` stays False, so DDP does not expect sparse gradients."""
    tied = [m for m in model.modules() if isinstance(m, WordLookup) and m.weight is weight]
    for lookup in tied:
        lookup.rows_only_gradient = True
    if tied and not getattr(weight, "densifies_gradient", False):
        weight.register_post_accumulate_grad_hook(densify_gradient)
        weight.densifies_gradient = True


def densify_gradient(weight):
    if weight.grad.layout != torch.strided:
        weight.grad = weight.grad.to_dense()


class WordEmbedding(nn.Module):
    """Word embedding + layer norm, no positions (RNN/CNN encoders)."""

    shape_keys = ("emb_size",)

    def __init__(self, args, vocab_size):
        args = model_config(args)
        super().__init__()
        self.dropout = args.dropout
        self.word_embedding = WordLookup(vocab_size, args.emb_size)
        self.layer_norm = embedding_layer_norm(args)
        self.scale = args.embedding_scale  # "embedding_scale": the vectors multiplied (Gemma: sqrt(hidden_size))

    takes_positions = True  # forward(..., positions=) of packed rows and left padding (Body.encode)

    def forward(self, src, seg, start=0, positions=None):
        """start: position of src's first token when decoding continues a cached prefix (positions, if any, are
        the encoder's: rotary_position_embedding, alibi_position_embedding)."""
        return normalise(self, self.words(src))

    def words(self, src):
        """The word vectors, times "embedding_scale" in their own precision (as Gemma rounds its normaliser)."""
        emb = self.word_embedding(src)
        return emb * torch.tensor(self.scale, dtype=emb.dtype) if self.scale != 1.0 else emb


class BertEmbedding(nn.Module):
    """Word + position + segment embeddings, layer norm, dropout."""

    segments = True
    learned_positions = True
    shape_keys = ("emb_size",)

    def __init__(self, args, vocab_size):
        args = model_config(args)
        super().__init__()
        self.dropout = args.dropout
        self.max_seq_length = args.max_seq_length
        if args.embedding_scale != 1.0:
            from uer.core.errors import UserInputError
            raise UserInputError("\"embedding_scale\" applies to the \"word\" embedding (Gemma's), not to one with "
                                 "learned positions")
        # "position_offset": rows before position 0's (BART's learned positions start at row 2)
        self.offset = args.position_offset
        self.word_embedding = WordLookup(vocab_size, args.emb_size)
        self.position_embedding = nn.Embedding(self.max_seq_length + self.offset, args.emb_size)
        if self.segments:
            self.segment_embedding = nn.Embedding(3, args.emb_size)
        self.layer_norm = embedding_layer_norm(args)

    takes_positions = True

    def forward(self, src, seg, start=0, positions=None):
        """start: position of src's first token (when decoding continues a cached prefix); positions [batch, seq]:
        each token's own (packed rows, left padding)."""
        seq_length = start + src.size(1) if positions is None else int(positions.max()) + 1
        if seq_length > self.max_seq_length:
            raise ValueError(f"sequence of {seq_length} tokens is longer than the position embedding "
                             f"({self.max_seq_length}); lower --seq_length")
        if positions is None:
            pos = torch.arange(start + self.offset, seq_length + self.offset, device=src.device)
        else:
            pos = positions + self.offset
        emb = self.word_embedding(src) + self.position_embedding(pos)
        if self.segments:
            emb = emb + self.segment_embedding(seg)
        return normalise(self, emb)


class WordPosEmbedding(BertEmbedding):
    """Word + position embeddings (GPT, GPT-2): no segments."""

    segments = False


def sinusoids(length, dim):
    """[length, dim] fixed positions of "Attention is all you need", laid out as transformers' Pegasus: the sines
    of the ceil(dim / 2) frequencies first, then the cosines of the first floor(dim / 2)."""
    half = (dim + 1) // 2
    inverse = 1.0 / (10000 ** (torch.arange(half, dtype=torch.float64) * 2 / dim))
    angles = torch.arange(length, dtype=torch.float64)[:, None] * inverse[None]
    return torch.cat([torch.sin(angles), torch.cos(angles[:, :dim // 2])], 1).float()


class WordSinusoidalposEmbedding(WordEmbedding):
    """Word embedding + fixed sinusoidal positions ("embedding": ["word", "sinusoidalpos"]; PEGASUS). With
    "embedding_scale" the word vectors are scaled first (PEGASUS's scale_embedding: sqrt(d_model))."""

    takes_positions = False  # its table is indexed from `start` only

    def __init__(self, args, vocab_size):
        args = model_config(args)
        super().__init__(args, vocab_size)
        self.max_seq_length = args.max_seq_length
        self.register_buffer("positions", sinusoids(self.max_seq_length, args.emb_size), persistent=False)

    def forward(self, src, seg, start=0):
        seq_length = start + src.size(1)
        if seq_length > self.max_seq_length:
            raise ValueError(f"sequence of {seq_length} tokens is longer than max_seq_length "
                             f"({self.max_seq_length}); lower --seq_length")
        return normalise(self, self.words(src) + self.positions[start:seq_length])


def interleaved_sinusoids(length, dim):
    """[length, dim] fixed positions as TencentPretrain (and UER-py since 2023) lay them out for text: sines at the
    even dimensions, cosines at the odd ones, of the frequencies exp(-j ln(10000) / (dim / 2 - 1)), j < dim / 2;
    an odd dim gets a zero last column. Computed with its operations, in float32."""
    half = dim // 2
    frequencies = torch.exp(torch.arange(half, dtype=torch.float) * -(math.log(10000) / (half - 1)))
    angles = torch.arange(length, dtype=torch.float).unsqueeze(1) * frequencies.unsqueeze(0)
    table = torch.zeros(length, 2 * half)
    table[:, 0::2], table[:, 1::2] = torch.sin(angles), torch.cos(angles)
    return torch.cat([table, torch.zeros(length, 1)], 1) if dim % 2 else table


class TencentpretrainSinusoidalposEmbedding(WordEmbedding):
    """TencentPretrain's "embedding": ["word", "sinusoidalpos"] (its PEGASUS and transformer/mt configs): the
    word embedding times sqrt(emb_size) plus interleaved_sinusoids, the i-th real token taking row i + 2 (rows
    0 and 1 are never used) and every position past the sequence's real tokens (seg > 0) zeros; then the layer
    norm unless removed. (TencentPretrain also zeroes the row of the vocabulary's [PAD] id, which with [PAD]
    at id 0, as in its vocabularies, is never used.)"""

    FIRST_ROW = 2
    takes_positions = False

    def __init__(self, args, vocab_size):
        args = model_config(args)
        super().__init__(args, vocab_size)
        if args.embedding_scale != 1.0:
            from uer.core.errors import UserInputError
            raise UserInputError("TencentPretrain's [\"word\", \"sinusoidalpos\"] scales by sqrt(emb_size) itself: "
                                 "drop \"embedding_scale\"")
        self.max_seq_length = args.max_seq_length
        self.scale = math.sqrt(args.emb_size)
        self.register_buffer("positions", interleaved_sinusoids(self.max_seq_length, args.emb_size),
                             persistent=False)

    def forward(self, src, seg, start=0):
        length = src.size(1)
        last = start + length + self.FIRST_ROW
        if last > self.max_seq_length:
            raise ValueError(f"sequence of {start + length} tokens: positions start at row {self.FIRST_ROW} of the "
                             f"{self.max_seq_length} of max_seq_length; lower --seq_length")
        real = (seg > 0) if seg is not None else (src != 0)
        inside = torch.arange(length, device=src.device)[None, :] < real.sum(-1, keepdim=True)
        positions = self.positions[start + self.FIRST_ROW:last]
        emb = self.word_embedding(src) * self.scale + positions[None] * inside[..., None].to(positions.dtype)
        return normalise(self, emb)
