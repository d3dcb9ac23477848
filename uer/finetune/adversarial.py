"""--use_adv: adversarial training on the word embedding table, as UER-py's successor runs it. After the normal
backward pass the table is pushed along its gradient and the loss of the pushed model is back-propagated too,
its gradients adding to the normal ones; then the table is put back.

FGM: one push of norm --fgm_epsilon. PGD: --pgd_k pushes of norm --pgd_alpha, the total kept within a ball of
radius --pgd_epsilon around the table; only the last push's gradients are added to the normal ones."""
import torch

from uer.model_saver import unwrap
from uer.core.errors import UserInputError


def word_table(model):
    """The encoder's word embedding weight (the successor's `embedding.word.embedding`)."""
    embedding = getattr(unwrap(model), "embedding", None)
    lookup = getattr(embedding, "word_embedding", None)
    if lookup is None:
        raise UserInputError("--use_adv perturbs the word embedding, and this model's embedding has none")
    return lookup.weight


def direction(grad):
    """grad / ||grad||, or None where there is nothing to follow (a zero or non-finite gradient)."""
    if grad is None:
        return None
    norm = grad.norm()
    if norm == 0 or not torch.isfinite(norm):
        return None
    return grad / norm


class FGM:
    def __init__(self, epsilon):
        self.epsilon = epsilon

    def __str__(self):
        return f"fgm (a push of norm {self.epsilon:g})"

    @torch.no_grad()
    def attack(self, model, table, adversarial_backward):
        push = direction(table.grad)
        if push is None:
            return
        original = table.detach().clone()
        table.add_(self.epsilon * push)
        with torch.enable_grad():
            adversarial_backward()
        table.copy_(original)


class PGD:
    def __init__(self, epsilon, alpha, k):
        self.epsilon, self.alpha, self.k = epsilon, alpha, k

    def __str__(self):
        return f"pgd ({self.k} pushes of norm {self.alpha:g} within {self.epsilon:g})"

    @torch.no_grad()
    def attack(self, model, table, adversarial_backward):
        params = [p for p in model.parameters() if p.requires_grad]
        saved = [None if p.grad is None else p.grad.clone() for p in params]
        original = table.detach().clone()
        for t in range(self.k):
            push = direction(table.grad)
            if push is not None:
                table.add_(self.alpha * push)
                self.project(table, original)
            if t < self.k - 1:
                for p in params:
                    p.grad = None
            else:
                for p, grad in zip(params, saved):
                    p.grad = grad
            with torch.enable_grad():
                adversarial_backward()
        table.copy_(original)

    def project(self, table, original):
        offset = table - original
        norm = offset.norm()
        if norm > self.epsilon:
            table.copy_(original + offset * (self.epsilon / norm))


def build_adversary(args):
    """The --adv_type attack, or None without --use_adv."""
    if not getattr(args, "use_adv", False):
        return None
    if args.adv_type == "fgm":
        return FGM(args.fgm_epsilon)
    if args.pgd_k < 1:
        raise UserInputError("--pgd_k must be at least 1")
    return PGD(args.pgd_epsilon, args.pgd_alpha, args.pgd_k)
