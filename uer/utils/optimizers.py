import torch

NO_DECAY = ("bias", "gamma", "beta")


def build_optimizer(model, args, total_updates):
    """AdamW (fused kernel when available) with BERT's linear warm-up then linear decay to zero."""
    decay, no_decay = [], []
    seen = set()
    for name, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (no_decay if name.endswith(NO_DECAY) else decay).append(p)
    groups = [{"params": decay, "weight_decay": getattr(args, "weight_decay", 0.01)},
              {"params": no_decay, "weight_decay": 0.0}]
    kwargs = {"lr": args.learning_rate, "betas": (args.beta1, args.beta2), "eps": 1e-6}
    try:
        optimizer = torch.optim.AdamW(groups, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.AdamW(groups, foreach=True, **kwargs)
    warmup = int(total_updates * args.warmup)

    def schedule(step):
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total_updates - step) / max(1, total_updates - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
