"""Summed softmax cross-entropy for outputs over a large vocabulary.

F.cross_entropy on [tokens, vocab] logits makes three more tensors of that size per step (log-probabilities,
the zero-filled gradient of nll_loss, the gradient of log_softmax), each a fresh allocation the CPU pays for in
page faults, and walks them in separate passes. This computes the same loss and gradient in row blocks that
stay in the CPU's cache (4 MB: blocks that fit an L2 cache pay more in per-operation overhead than they gain),
and writes the gradient into the logits' own buffer (on a GPU too, where it saves the memory), which nothing
else reads once the loss has been taken: the logits come from a linear layer, whose backward does not need its
output. Logits in fp32 hold, from the forward pass on, exp(logit - row maximum): the backward pass only scales
them, instead of computing the exponentials a second time.

Logits in bf16/fp16 (autocast) are read and written block by block in fp32, which gives the results of casting
the whole tensor to fp32 first without the fp32 copy and the two passes of casting it and its gradient; their
exponentials are computed again in the backward pass (kept in half precision they would round twice).

How many rows the logits predict right (argmax == label, as UER-py counts its accuracy) comes from the row
maxima the loss needs anyway: on the CPU, argmax over 32k classes costs as much as the rest of the loss.
"""
import torch

ROW_BLOCK_BYTES = 4 << 20


def _row_blocks(*tensors):
    """The tensors (the logits first, then per-row ones) split alike into blocks of rows; on a GPU one block,
    since each block costs kernel launches there."""
    logits = tensors[0]
    rows = logits.size(0) if logits.is_cuda else ROW_BLOCK_BYTES // max(1, logits.size(1) * 4)
    return zip(*(t.split(max(1, rows)) for t in tensors))


def _correct(block, labels, maxima, label_logits):
    """How many rows of `block` have their first maximum at their label: rows whose label logit is not the
    maximum are wrong, the others right unless the maximum occurs more than once (then argmax decides)."""
    if block.is_cuda:  # argmax is cheap there, and finding the candidate rows would wait for the GPU
        return (block.argmax(1) == labels).sum()
    rows = torch.nonzero(label_logits == maxima)[:, 0]
    if rows.numel() == 0:
        return 0
    tied = (block[rows] == maxima[rows, None]).sum(1) > 1
    rows, tied_rows = rows[~tied], rows[tied]
    return rows.numel() + (block[tied_rows].argmax(1) == labels[tied_rows]).sum()


class _SoftmaxCrossEntropySum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, labels, bias=None):
        label_logits = logits.gather(1, labels[:, None])[:, 0]
        if bias is not None:  # the same sum as the block's below
            label_logits = label_logits + bias.to(logits.dtype)[labels]
        label_logits = label_logits.float()
        maxima, sums = (torch.empty(logits.size(0), dtype=torch.float32, device=logits.device) for _ in range(2))
        correct = 0
        for block, block_labels, block_label_logits, block_maxima, block_sums in _row_blocks(
                logits, labels, label_logits, maxima, sums):
            if bias is not None:  # added here, in cache, rather than in a pass of its own over the logits
                block.add_(bias.to(block.dtype))
            block32 = block.float()  # block itself when it is fp32
            torch.amax(block32, 1, out=block_maxima)
            correct += _correct(block32, block_labels, block_maxima, block_label_logits)
            torch.sum(block32.sub_(block_maxima[:, None]).exp_(), 1, out=block_sums)
        lse = maxima + sums.log()
        correct = torch.as_tensor(correct, device=logits.device)
        ctx.kept_exponentials = logits.dtype == torch.float32
        ctx.save_for_backward(logits, sums if ctx.kept_exponentials else lse, labels)
        ctx.bias = bias.dtype if bias is not None else None
        ctx.mark_non_differentiable(correct)
        return (lse - label_logits).sum(), correct

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad, _):
        logits, sums_or_lse, labels = ctx.saved_tensors
        grad = grad.float()
        bias_grad = torch.zeros(logits.size(1), dtype=torch.float32, device=logits.device) if ctx.bias else None
        # exp(logit - maximum) * grad / sum when the exponentials were kept, else the log-sum-exp to recompute them
        per_row = grad / sums_or_lse if ctx.kept_exponentials else sums_or_lse
        minus_grad = -grad
        for block, block_labels, block_per_row in _row_blocks(logits, labels, per_row):
            if ctx.kept_exponentials:
                probs = block.mul_(block_per_row[:, None])
            else:
                probs = block.float().sub_(block_per_row[:, None]).exp_().mul_(grad)
            probs.scatter_add_(1, block_labels[:, None], minus_grad.expand(block_labels.size(0), 1))
            if bias_grad is not None:
                bias_grad += probs.sum(0)
            if probs is not block:
                block.copy_(probs)
        return logits, None, bias_grad.to(ctx.bias) if bias_grad is not None else None


def softmax_cross_entropy_sum(logits, labels):
    """sum over rows of -log softmax(logits)[label] (== F.cross_entropy(..., reduction="sum")).

    `logits` must be a tensor only this loss reads after the forward pass: its buffer becomes the gradient.
    """
    return softmax_cross_entropy_sum_and_correct(logits, labels)[0]


# Under --compile the loss runs as it is written (a graph break): its walk over row blocks, in place and with a
# data-dependent branch, is what torch.compile would otherwise try to trace, and cannot (with more than one block).
@torch.compiler.disable
def softmax_cross_entropy_sum_and_correct(logits, labels, bias=None):
    """(the summed loss above, how many rows' highest-scoring class is their label), in one pass over the
    logits; `bias`, when given, is added to every row first (an output layer's bias, without a pass of its
    own)."""
    return _SoftmaxCrossEntropySum.apply(logits, labels, bias)
