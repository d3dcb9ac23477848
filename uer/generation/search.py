"""Choosing the next token when generating: greedy, or sampling from a temperature-scaled distribution cut by
top-k and top-p (nucleus). scripts/generate.py and scripts/generate_seq2seq.py decode with it."""
import torch


def next_token(logits, top_k, top_p, temperature, generator):
    """top_k 1: the most likely token; otherwise a sample from softmax(logits / temperature) kept to the top_k
    most likely (0: all) and to the smallest set holding top_p of the probability."""
    if top_k == 1:
        return int(logits.argmax())
    logits = logits.float() / max(temperature, 1e-6)
    if top_k > 0:
        kth = logits.topk(min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, -1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        outside = sorted_probs.cumsum(0) - sorted_probs >= top_p  # keep the smallest prefix reaching top_p
        probs[order[outside]] = 0.0
    return int(torch.multinomial(probs / probs.sum(), 1, generator=generator))


def beam_search(step, reorder, start, end, beam_width, max_new_tokens, length_penalty=1.0):
    """The best of `beam_width` hypotheses, as transformers' beam search keeps them (early_stopping false).

    step(tokens [beams], position) -> next-token logits [beams, vocab] of each running beam after it reads its
    token; reorder(indices) makes the beams' caches follow the chosen beams. Each step takes the 2 x beam_width
    best continuations of all beams; those that end (the end token, or the length limit) among the first
    beam_width are finished hypotheses scored sum(log p) / length^length_penalty (length counting the end
    token), the best beam_width others run on. It stops when no running beam can beat the worst of beam_width
    finished ones. Returns the token ids after `start`, the end token left out."""
    running = [[start] for _ in range(beam_width)]
    running_scores = torch.full((beam_width,), -1.0e9)
    running_scores[0] = 0.0
    finished = []  # (score, ids), the best beam_width
    for length in range(1, max_new_tokens + 1):
        logits = step(torch.tensor([ids[-1] for ids in running]), length - 1).float().cpu()
        scores = (torch.log_softmax(logits, -1) + running_scores[:, None]).flatten()
        top_scores, top = scores.topk(2 * beam_width)
        vocab = logits.size(-1)
        candidates = [(float(s), int(i) // vocab, int(i) % vocab) for s, i in zip(top_scores, top)]
        ends = [token == end or length == max_new_tokens for _, _, token in candidates]
        for rank, ((score, beam, token), done) in enumerate(zip(candidates, ends)):
            if done and rank < beam_width:
                finished.append((score / length ** length_penalty, running[beam] + [token]))
        finished = sorted(finished, key=lambda f: -f[0])[:beam_width]
        if all(ends):
            break
        kept = sorted((c for c, done in zip(candidates, ends) if not done), key=lambda c: -c[0])[:beam_width]
        kept += [(-1.0e9, kept[0][1], kept[0][2])] * (beam_width - len(kept))  # never chosen again
        reorder(torch.tensor([beam for _, beam, _ in kept]))
        running = [running[beam] + [token] for _, beam, token in kept]
        running_scores = torch.tensor([score for score, _, _ in kept])
        if len(finished) == beam_width and running_scores[0] / length ** length_penalty <= finished[-1][0]:
            break
    ids = finished[0][1][1:]
    return ids[:-1] if ids and ids[-1] == end else ids
