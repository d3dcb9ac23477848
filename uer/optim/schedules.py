"""--scheduler: the learning-rate schedules of UER-py's successor (HuggingFace's formulas), as LambdaLR factors of
--learning_rate. Warm-up (all but constant) rises linearly from 0 over --warmup x the updates; linear is UER-py's
and the default."""
import math

SCHEDULES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
             "inverse_sqrt", "tri_stage")
POLYNOMIAL_END_LR = 1e-7  # HF's and the successor's lr_end; power 1
RESTART_CYCLES = 1  # HF's default number of hard restarts (one cycle)
TRI_STAGE_SCALES = (0.01, 0.05)  # TencentPretrain's tri_stage: the first and the last rate, of --learning_rate


def tri_stage_factor(warmup, decay, total):
    """TencentPretrain's tri_stage (Park et al., SpecAugment): from 0.01 x the rate, linearly up over `warmup`
    updates, held, then down exponentially over the last `decay` updates to 0.05 x; held there after `total`.
    warmup and decay are --warmup and --decay x the updates, not rounded, as there."""
    first, last = TRI_STAGE_SCALES
    rate = (1 - first) / warmup if warmup else 0.0
    decay_factor = -math.log(last) / max(decay, 1)

    def factor(step):
        if step < warmup:
            return first + step * rate
        if step < total - decay:
            return 1.0
        if step <= total:
            return math.exp(-decay_factor * (step - total + decay))
        return last
    return factor


def schedule_factor(name, warmup, total, learning_rate):
    """factor(step) -> multiple of the initial learning rate at update `step` (0 for the first)."""
    def warming(step):
        return step / max(1, warmup)

    def linear(step):
        return warming(step) if step < warmup else max(0.0, (total - step) / max(1, total - warmup))

    def progress(step):
        return (step - warmup) / max(1, total - warmup)

    def cosine(step):
        return warming(step) if step < warmup else max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress(step))))

    def cosine_with_restarts(step):
        if step < warmup:
            return warming(step)
        if progress(step) >= 1.0:
            return 0.0
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((RESTART_CYCLES * progress(step)) % 1.0))))

    def polynomial(step):
        if step < warmup:
            return warming(step)
        if step > total:
            return POLYNOMIAL_END_LR / learning_rate
        remaining = 1 - (step - warmup) / max(1, total - warmup)
        return ((learning_rate - POLYNOMIAL_END_LR) * remaining + POLYNOMIAL_END_LR) / learning_rate

    def constant(step):
        return 1.0

    def constant_with_warmup(step):
        return warming(step) if step < warmup else 1.0

    def inverse_sqrt(step):
        timescale = warmup or 10_000
        return warming(step) if step < warmup else 1.0 / math.sqrt((step + timescale - warmup) / timescale)

    return {"linear": linear, "cosine": cosine, "cosine_with_restarts": cosine_with_restarts,
            "polynomial": polynomial, "constant": constant, "constant_with_warmup": constant_with_warmup,
            "inverse_sqrt": inverse_sqrt}[name]
