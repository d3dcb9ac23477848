"""Decoder-only generation: the hidden state of a text's last position, step by step, with the keys and values
of the transformer's earlier positions kept (one token's work per step); several texts at once, left-padded."""
import torch

from uer.encoders.transformer_encoder import TransformerEncoder
from uer.generation.search import next_token


def caches_keys(model):
    return isinstance(model.encoder, TransformerEncoder) and model.encoder.causal and model.subencoder is None


class Decoder:
    """decoder(ids) -> the last position's hidden state. Transformer (gpt) encoders keep the keys and values of
    earlier positions, so each step encodes only the new token; other encoders re-read the whole prefix."""

    def __init__(self, model, device):
        self.model, self.device, self.done = model, device, 0
        decoding_layout(model, device)
        self.cache = [{} for _ in range(model.encoder.layers_num)] if caches_keys(model) else None

    def __call__(self, ids):
        if self.cache is None:
            src = torch.tensor([ids], device=self.device)
            return self.model.encode(src, torch.ones_like(src))[0, -1]
        src = torch.tensor([ids[self.done:]], device=self.device)
        seg = torch.ones_like(src)
        hidden = self.model.encoder(self.model.embedding(src, seg, start=self.done), seg, self.cache)
        self.done = len(ids)
        return hidden[0, -1]


class BatchDecoder:
    """Rows of different lengths decoded together: prompts left-padded, each row's positions counted from its
    first real token and padding masked from every query (as transformers' generate with an attention mask);
    rows of one length take the plain causal path. start(prompts) and step(tokens) return the last positions'
    hidden states [rows, hidden]."""

    def __init__(self, model, device):
        if not caches_keys(model):
            raise ValueError("batched generation needs a transformer decoder (its keys and values are cached)")
        self.model, self.device = model, device
        self.cache = [{} for _ in range(model.encoder.layers_num)]
        self.lengths = None
        decoding_layout(model, device)

    def start(self, prompts):
        width = max(len(p) for p in prompts)
        rows = [[0] * (width - len(p)) + list(p) for p in prompts]
        src = torch.tensor(rows, device=self.device)
        self.lengths = torch.tensor([len(p) for p in prompts], device=self.device)
        self.padded = bool((self.lengths != width).any())
        seg = torch.ones_like(src)
        if not self.padded:
            hidden = self.model.encoder(self.model.embedding(src, seg), seg, self.cache)
        else:
            documents = (torch.arange(width, device=self.device)[None, :] >= (width - self.lengths)[:, None]).long()
            positions = (torch.arange(width, device=self.device)[None, :] - (width - self.lengths)[:, None]).clamp(min=0)
            hidden = self.model.encoder(self.model.embed(src, seg, positions), seg, self.cache, documents=documents,
                                        positions=positions)
        return hidden[:, -1]

    def step(self, tokens):
        src = tokens.to(self.device)[:, None]
        seg = torch.ones_like(src)
        if not self.padded:
            past = self.cache[0]["k"].size(2)
            hidden = self.model.encoder(self.model.embedding(src, seg, start=past), seg, self.cache)
        else:
            positions = self.lengths[:, None]
            hidden = self.model.encoder(self.model.embed(src, seg, positions), seg, self.cache,
                                        documents=torch.ones_like(src), positions=positions)
        self.lengths = self.lengths + 1
        return hidden[:, -1]


def decoding_layout(model, device):
    """On the CPU, stores the model's linear layers' weights column by column, once (their values and shapes stay):
    a decoding step is matrix-vector products over every weight, and MKL reads a row-major [out, in] weight in
    them at a fraction of the memory's rate (9 GB/s against 34 measured on a 32,000 x 512 output layer) but the
    rows of its transpose at nearly that rate. The model keeps this layout for the next generation; training it
    afterwards in the same process works but runs slower (the backward of a large output layer, 13% measured):
    training_layout(model) puts the weights back."""
    if torch.device(device).type != "cpu":
        return
    for layer in model.modules():
        weight = getattr(layer, "weight", None) if isinstance(layer, torch.nn.Linear) else None
        if weight is not None and weight.is_contiguous() and min(weight.shape) > 1:
            weight.data = weight.data.t().contiguous().t()


def training_layout(model):
    """Undoes decoding_layout: every parameter stored row by row again."""
    for p in model.parameters():
        if not p.is_contiguous():
            p.data = p.data.contiguous()


def generate(model, device, prompts, max_new_tokens, stop_ids, sampling=(1, 1.0, 1.0), generator=None,
             on_tokens=None):
    """The new tokens of each prompt (stop token left out), decoded together; sampling is (top_k, top_p,
    temperature) as search.next_token; on_tokens(step, tokens [rows]) sees each step's choices (streaming)."""
    top_k, top_p, temperature = sampling
    decoder = BatchDecoder(model, device)
    stop = torch.tensor(sorted(stop_ids), dtype=torch.long)
    done = torch.zeros(len(prompts), dtype=torch.bool)
    out = [[] for _ in prompts]
    with torch.inference_mode():
        hidden = decoder.start(prompts)
        for step in range(max_new_tokens):
            logits = model.target.word_logits(hidden).float().cpu()
            if top_k == 1:
                tokens = logits.argmax(-1)
            else:
                tokens = torch.tensor([next_token(row, top_k, top_p, temperature, generator) for row in logits])
            finished = torch.isin(tokens, stop) | done
            for i in torch.nonzero(~finished).flatten().tolist():
                out[i].append(int(tokens[i]))
            if on_tokens is not None:
                on_tokens(step, torch.where(finished, -1, tokens))
            done = finished
            if bool(done.all()) or step == max_new_tokens - 1:
                break
            hidden = decoder.step(tokens)
    return out
