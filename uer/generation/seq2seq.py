"""Generating target texts with an encoder-decoder model (Seq2seqModel): the encoder runs once per source, the
decoder keeps its self-attention keys and values and computes the encoder's keys and values once."""
import torch

from uer.generation.search import next_token, beam_search
from uer.core.constants import CLS_TOKEN, SEP_TOKEN
from uer.text.hf_tokenizer import HfTokenizer
from uer.core.model_config import model_config


def start_and_end(args, vocab):
    """The decoder's first input (the config's "decoder_start_token_id", else [CLS]) and the end token."""
    args = model_config(args)
    start = args.decoder_start_token_id
    return (vocab.get(CLS_TOKEN) if start is None else start), vocab.get(SEP_TOKEN)


def decode_target(tokenizer, ids):
    if isinstance(tokenizer, HfTokenizer):
        return tokenizer.hf.decode(ids, skip_special_tokens=True)
    return tokenizer.decode(ids)


def new_cache(model):
    return [{} for _ in range(model.decoder.layers_num)]


def greedy_batch(model, src, seg, start, end, max_new_tokens):
    """Greedy target ids (without start and end) for a padded batch of sources [n, L] (seg 0 = padding)."""
    memory = model.encode(src, seg)
    cache = new_cache(model)
    tokens = torch.full((src.size(0), 1), start, dtype=torch.long, device=src.device)
    done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
    steps = []
    for position in range(max_new_tokens):
        hidden = model.decode(memory, seg, tokens, torch.ones_like(tokens), cache, start=position)
        chosen = model.target.word_logits(hidden[:, -1]).argmax(-1).masked_fill(done, end)
        steps.append(chosen)
        done |= chosen == end
        if bool(done.all()):
            break
        tokens = chosen[:, None]
    rows = torch.stack(steps, 1).tolist() if steps else [[] for _ in range(src.size(0))]
    return [row[:row.index(end)] if end in row else row for row in rows]


def sample_one(model, src, start, end, args, generator):
    """Token ids generated for one source (a [1, n] tensor) by --top_k/--top_p/--temperature sampling (greedy
    with --top_k 1), or by beam search with --beam_width > 1."""
    if getattr(args, "beam_width", 1) > 1:
        return beam_one(model, src, start, end, args)
    seg = torch.ones_like(src)
    memory = model.encode(src, seg)
    cache = new_cache(model)
    ids = [start]
    while len(ids) <= args.max_new_tokens:
        step = torch.tensor([[ids[-1]]], device=src.device)
        hidden = model.decode(memory, seg, step, torch.ones_like(step), cache, start=len(ids) - 1)
        token = next_token(model.target.word_logits(hidden[0, -1]).cpu(), args.top_k, args.top_p, args.temperature,
                           generator)
        if token == end:
            break
        ids.append(token)
    return ids[1:]


def beam_one(model, src, start, end, args):
    """Beam search for one source (a [1, n] tensor): every beam reads the same encoder output."""
    seg = torch.ones_like(src).expand(args.beam_width, -1)
    memory = model.encode(src[:1], seg[:1]).expand(args.beam_width, -1, -1)
    cache = new_cache(model)

    def step(tokens, position):
        tokens = tokens.to(src.device)[:, None]
        hidden = model.decode(memory, seg, tokens, torch.ones_like(tokens), cache, start=position)
        return model.target.word_logits(hidden[:, -1])

    def reorder(beams):
        for layer in cache:
            layer["k"], layer["v"] = layer["k"][beams.to(src.device)], layer["v"][beams.to(src.device)]
    return beam_search(step, reorder, start, end, args.beam_width, args.max_new_tokens, args.length_penalty)
