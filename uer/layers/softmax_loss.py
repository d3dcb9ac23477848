"""Summed softmax cross-entropy for outputs over a large vocabulary.

F.cross_entropy on [tokens, vocab] logits makes three more tensors of that size per step (log-probabilities,
the zero-filled gradient of nll_loss, the gradient of log_softmax), each a fresh allocation the CPU pays for in
page faults, and walks them in separate passes. This computes the same loss and gradient in row blocks that
stay in the CPU's cache, and writes the gradient into the logits' own buffer (on a GPU too, where it saves the
memory), which nothing else reads once the loss has been taken: the logits come from a linear layer, whose
backward does not need its output. Logits in fp32 hold, from the forward pass on, exp(logit - row maximum):
the backward pass only scales them, instead of computing the exponentials a second time.

Logits in bf16/fp16 (autocast) are read and written block by block in fp32, which gives the results of casting
the whole tensor to fp32 first without the fp32 copy and the two passes of casting it and its gradient; their
exponentials are computed again in the backward pass (kept in half precision they would round twice).

How many rows the logits predict right (argmax == label, as UER-py counts its accuracy) comes from the row
maxima the loss needs anyway: on the CPU, argmax over 32k classes costs as much as the rest of the loss.
"""
import torch

ROW_BLOCK_BYTES = 1 << 20


def _row_blocks(x):
    """(block, first row) pairs; on a GPU one block, since each block costs kernel launches there."""
    rows = x.size(0) if x.is_cuda else ROW_BLOCK_BYTES // max(1, x.size(1) * 4)
    rows = max(1, rows)
    return zip(x.split(rows), range(0, x.size(0), rows))


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
        rows_of = logits.size(0)
        lse = torch.empty(rows_of, dtype=torch.float32, device=logits.device)
        sums = torch.empty(rows_of, dtype=torch.float32, device=logits.device)
        label_logits = torch.empty(rows_of, dtype=torch.float32, device=logits.device)
        correct = torch.zeros((), dtype=torch.long, device=logits.device)
        for block, start in _row_blocks(logits):
            rows, block_labels = slice(start, start + block.size(0)), labels[start:start + block.size(0)]
            if bias is not None:  # added here, in cache, rather than in a pass of its own over the logits
                block.add_(bias.to(block.dtype))
            block32 = block.float()  # block itself when it is fp32
            maxima = block32.amax(1)
            label_logits[rows] = block32.gather(1, block_labels[:, None])[:, 0]
            correct += _correct(block32, block_labels, maxima, label_logits[rows])
            sums[rows] = block32.sub_(maxima[:, None]).exp_().sum(1)
            lse[rows] = maxima + sums[rows].log()
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
        for block, start in _row_blocks(logits):
            rows = block.size(0)
            if ctx.kept_exponentials:  # exp(logit - maximum) / sum: the softmax
                probs = block.mul_((grad / sums_or_lse[start:start + rows])[:, None])
            else:
                probs = block.float().sub_(sums_or_lse[start:start + rows, None]).exp_().mul_(grad)
            probs[torch.arange(rows, device=block.device), labels[start:start + rows]] -= grad
            if bias_grad is not None:
                bias_grad += probs.sum(0)
            if probs is not block:
                block.copy_(probs)
        return logits, None, bias_grad.to(ctx.bias) if bias_grad is not None else None


def softmax_cross_entropy_sum(logits, labels):
    """sum over rows of -log softmax(logits)[label] (== F.cross_entropy(..., reduction="sum")).

    `logits` must be a tensor only this loss reads after the forward pass: its buffer becomes the gradient.
    """
    return _SoftmaxCrossEntropySum.apply(logits, labels)[0]


def softmax_cross_entropy_sum_and_correct(logits, labels, bias=None):
    """(the summed loss above, how many rows' highest-scoring class is their label), in one pass over the
    logits; `bias`, when given, is added to every row first (an output layer's bias, without a pass of its
    own)."""
    return _SoftmaxCrossEntropySum.apply(logits, labels, bias)
