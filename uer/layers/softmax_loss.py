"""Summed softmax cross-entropy for outputs over a large vocabulary.

F.cross_entropy on [tokens, vocab] logits makes three more tensors of that size per step (log-probabilities,
the zero-filled gradient of nll_loss, the gradient of log_softmax), each a fresh allocation the CPU pays for in
page faults, and walks them in separate passes. This computes the same loss and gradient in row blocks that
stay in the CPU's cache, and writes the gradient into the logits' own buffer (on a GPU too, where it saves the
memory), which nothing else reads once the loss has been taken: the logits come from a linear layer, whose
backward does not need its output.

Logits in bf16/fp16 (autocast) are read and written block by block in fp32, which gives the results of casting
the whole tensor to fp32 first without the fp32 copy and the two passes of casting it and its gradient.
"""
import torch

ROW_BLOCK_BYTES = 1 << 20


def _row_blocks(x):
    """(block, first row) pairs; on a GPU one block, since each block costs kernel launches there."""
    rows = x.size(0) if x.is_cuda else ROW_BLOCK_BYTES // max(1, x.size(1) * 4)
    rows = max(1, rows)
    return zip(x.split(rows), range(0, x.size(0), rows))


class _SoftmaxCrossEntropySum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, labels, bias=None):
        lse = torch.empty(logits.size(0), dtype=torch.float32, device=logits.device)
        predicted = torch.empty(logits.size(0), dtype=torch.long, device=logits.device)
        for block, start in _row_blocks(logits):
            rows = slice(start, start + block.size(0))
            if bias is not None:  # added here, in cache, rather than in a pass of its own over the logits
                block.add_(bias.to(block.dtype))
            block32 = block.float()
            torch.logsumexp(block32, 1, out=lse[rows])
            # the prediction while the block is in cache (max().indices: the first maximum, as argmax)
            predicted[rows] = block32.max(1).indices
        ctx.save_for_backward(logits, lse, labels)
        ctx.bias = bias.dtype if bias is not None else None
        ctx.mark_non_differentiable(predicted)
        return (lse - logits.gather(1, labels[:, None]).squeeze(1).float()).sum(), predicted

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad, _):
        logits, lse, labels = ctx.saved_tensors
        grad = grad.float()
        bias_grad = torch.zeros(logits.size(1), dtype=torch.float32, device=logits.device) if ctx.bias else None
        for block, start in _row_blocks(logits):
            rows = block.size(0)
            probs = block.float()  # block itself when it is fp32
            probs.sub_(lse[start:start + rows, None]).exp_().mul_(grad)
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


def softmax_cross_entropy_sum_and_predictions(logits, labels, bias=None):
    """(the summed loss above, each row's highest-scoring class), in one pass over the logits; `bias`, when
    given, is added to every row first (an output layer's bias, without a pass of its own)."""
    return _SoftmaxCrossEntropySum.apply(logits, labels, bias)
