"""A linear-chain CRF over per-token label scores (run_ner.py --crf_target): transition scores between labels,
and from the start / to the end of a sentence.

The partition function is a product of per-position [labels x labels] score matrices in the log semiring,
reduced pairwise (log2(length) batched steps, not one step per token); Viterbi decoding runs over the positions
with every sentence of the batch at once."""
import torch
import torch.nn as nn


class CRF(nn.Module):
    def __init__(self, labels_num):
        super().__init__()
        self.transitions = nn.Parameter(torch.empty(labels_num, labels_num).uniform_(-0.1, 0.1))  # [from, to]
        self.start_transitions = nn.Parameter(torch.empty(labels_num).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(labels_num).uniform_(-0.1, 0.1))

    def log_likelihood(self, emissions, tags, mask):
        """log p(tags | emissions) per sentence [batch]; emissions [batch, length, labels], tags and mask
        [batch, length], each sentence's mask a run of True from position 0 (at least one)."""
        emissions = emissions.float()
        return self.path_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def path_score(self, emissions, tags, mask):
        maskf = mask.float()
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
        moved = self.transitions[tags[:, :-1], tags[:, 1:]] * maskf[:, 1:]
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
        return (self.start_transitions[tags[:, 0]] + (emitted * maskf).sum(1) + moved.sum(1)
                + self.end_transitions[last])

    def log_partition(self, emissions, mask):
        """log of the sum over every label sequence of exp(score), by pairwise log-semiring products."""
        batch, length, labels = emissions.shape
        steps = self.transitions.unsqueeze(0).unsqueeze(0) + emissions[:, 1:].unsqueeze(2)  # [b, t-1, from, to]
        identity = torch.full((labels, labels), -torch.inf, device=emissions.device).fill_diagonal_(0.0)
        steps = torch.where(mask[:, 1:, None, None], steps, identity)  # padding carries the score unchanged
        while steps.size(1) > 1:
            if steps.size(1) % 2:
                steps = torch.cat([steps, identity.expand(batch, 1, labels, labels)], 1)
            steps = log_matmul(steps[:, 0::2], steps[:, 1::2])
        first = self.start_transitions + emissions[:, 0]  # [b, labels]
        if length > 1:
            first = torch.logsumexp(first.unsqueeze(2) + steps[:, 0], dim=1)
        return torch.logsumexp(first + self.end_transitions, dim=1)

    @torch.no_grad()
    def decode(self, emissions, mask):
        """The best label sequence of each sentence, [batch, length] (labels past a sentence's end are 0)."""
        emissions = emissions.float()
        batch, length, labels = emissions.shape
        score = self.start_transitions + emissions[:, 0]
        back = []
        for t in range(1, length):
            candidates = score.unsqueeze(2) + self.transitions  # [b, from, to]
            best, origin = candidates.max(1)
            keep = mask[:, t].unsqueeze(1)
            score = torch.where(keep, best + emissions[:, t], score)
            back.append(torch.where(keep, origin, torch.arange(labels, device=emissions.device)))
        tag = (score + self.end_transitions).argmax(1)
        path = [tag]
        for origin in reversed(back):
            tag = origin.gather(1, tag.unsqueeze(1)).squeeze(1)
            path.append(tag)
        return torch.stack(path[::-1], 1) * mask


def log_matmul(a, b):
    """(a @ b) in the log semiring over the last two dimensions: logsumexp_k a[..., i, k] + b[..., k, j]."""
    return torch.logsumexp(a.unsqueeze(-1) + b.unsqueeze(-3), dim=-2)
