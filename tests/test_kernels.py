"""The hand-written replacements for PyTorch operations compute what the operations they replace compute; the
allocator setting of CPU runs keeps freed memory."""
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from uer.layers import softmax_loss
from uer.layers.dropout import dropout, keep_mask
from uer.layers.multi_headed_attn import attention_with_dropout
from uer.layers.softmax_loss import softmax_cross_entropy_sum


@pytest.mark.parametrize("rows,vocab", [(1, 2), (37, 5), (300, 997), (0, 11)])
def test_softmax_cross_entropy_equals_torch(rows, vocab, monkeypatch):
    monkeypatch.setattr(softmax_loss, "ROW_BLOCK_BYTES", 4 * vocab * 16)  # several row blocks, a partial last one
    torch.manual_seed(rows)
    logits = torch.randn(rows, vocab) * 4
    labels = torch.randint(0, vocab, (rows,))
    ours_in = logits.clone().requires_grad_()
    torch_in = logits.clone().requires_grad_()
    ours = softmax_cross_entropy_sum(ours_in * 1.0, labels)
    reference = F.cross_entropy(torch_in, labels, reduction="sum")
    (ours * 0.3).backward()
    (reference * 0.3).backward()
    assert torch.allclose(ours, reference, rtol=1e-5, atol=1e-5)
    assert torch.allclose(ours_in.grad, torch_in.grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("rows,vocab", [(37, 5), (300, 997)])
def test_softmax_cross_entropy_adds_an_output_bias_as_linear_would(rows, vocab, monkeypatch):
    from uer.layers.softmax_loss import softmax_cross_entropy_sum_and_correct
    monkeypatch.setattr(softmax_loss, "ROW_BLOCK_BYTES", 4 * vocab * 16)
    torch.manual_seed(rows)
    hidden, weight, bias = (torch.randn(*shape, requires_grad=True) for shape in ((rows, 8), (vocab, 8), (vocab,)))
    labels = torch.randint(0, vocab, (rows,))
    reference = F.cross_entropy(F.linear(hidden, weight, bias), labels, reduction="sum")
    expected = torch.autograd.grad(reference, (hidden, weight, bias))
    ours, correct = softmax_cross_entropy_sum_and_correct(F.linear(hidden, weight), labels, bias)
    assert torch.allclose(ours, reference, rtol=1e-5)
    assert correct.item() == (F.linear(hidden, weight, bias).argmax(1) == labels).sum().item()
    for got, want in zip(torch.autograd.grad(ours, (hidden, weight, bias)), expected):
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-5)


def test_softmax_cross_entropy_counts_correct_rows_as_argmax_does(monkeypatch):
    """Rows right by a unique maximum at the label, wrong by a maximum tied at an earlier class (argmax takes the
    first), right by one tied at a later class, wrong elsewhere; over several row blocks."""
    from uer.layers.softmax_loss import softmax_cross_entropy_sum_and_correct
    monkeypatch.setattr(softmax_loss, "ROW_BLOCK_BYTES", 4 * 7 * 3)
    torch.manual_seed(0)
    logits = torch.randn(40, 7)
    labels = torch.randint(1, 6, (40,))
    rows = torch.arange(40)
    logits[rows[:10], labels[:10]] = 9.0
    logits[rows[10:20], labels[10:20]] = 9.0
    logits[rows[10:20], labels[10:20] - 1] = 9.0
    logits[rows[20:30], labels[20:30]] = 9.0
    logits[rows[20:30], labels[20:30] + 1] = 9.0
    expected = (logits.argmax(1) == labels).sum().item()
    for dtype in (torch.float32, torch.bfloat16):
        _, correct = softmax_cross_entropy_sum_and_correct(logits.to(dtype), labels)
        assert correct.item() == expected
    assert expected >= 20


def test_softmax_cross_entropy_of_bf16_logits_is_computed_in_fp32(monkeypatch):
    monkeypatch.setattr(softmax_loss, "ROW_BLOCK_BYTES", 4 * 997 * 16)
    torch.manual_seed(1)
    logits = (torch.randn(300, 997) * 4).bfloat16()
    labels = torch.randint(0, 997, (300,))
    ours_in, torch_in = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    ours = softmax_cross_entropy_sum(ours_in * 1.0, labels)
    reference = F.cross_entropy(torch_in.float(), labels, reduction="sum")
    ours.backward()
    reference.backward()
    assert torch.allclose(ours, reference, rtol=1e-5)
    assert torch.allclose(ours_in.grad.float(), torch_in.grad.float(), rtol=2 ** -8, atol=1e-6)  # bf16's rounding


def test_softmax_cross_entropy_is_stable_for_large_logits():
    logits = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1e4, 0.0]], requires_grad=True)
    loss = softmax_cross_entropy_sum(logits * 1.0, torch.tensor([0, 0]))
    loss.backward()
    assert loss.item() == pytest.approx(1e4)
    assert torch.isfinite(logits.grad).all()


def test_softmax_cross_entropy_refuses_labels_outside_the_vocabulary():
    with pytest.raises(RuntimeError):
        softmax_cross_entropy_sum(torch.randn(3, 4), torch.tensor([0, 4, 1]))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_mask_keeps_one_minus_p(p):
    torch.manual_seed(0)
    kept = keep_mask((400, 500), p).double()
    assert kept.mean().item() == pytest.approx(1 - p, abs=0.003)
    # neighbours come from the two halves of one 64-bit draw: they must not be correlated
    pairs = kept.view(-1, 2)
    assert (pairs[:, 0] * pairs[:, 1]).mean().item() == pytest.approx((1 - p) ** 2, abs=0.003)


def test_keep_mask_follows_torch_manual_seed():
    torch.manual_seed(3)
    first = keep_mask((1000,), 0.5)
    torch.manual_seed(3)
    assert torch.equal(keep_mask((1000,), 0.5), first)
    assert not torch.equal(keep_mask((1000,), 0.5), first)


def test_keep_mask_of_odd_size_and_extremes():
    assert keep_mask((3, 5), 0.0).all()
    assert keep_mask((7,), 0.5).shape == (7,)
    assert not dropout(torch.ones(9), 1.0, True).any()


def test_dropout_preserves_the_expectation_and_passes_gradients_where_kept():
    torch.manual_seed(0)
    x = torch.ones(1_000_000, requires_grad=True)
    y = dropout(x, 0.3, True)
    y.sum().backward()
    assert y.unique().tolist() == [0.0, pytest.approx(1 / 0.7)]
    assert y.mean().item() == pytest.approx(1.0, abs=0.005)
    assert torch.equal(x.grad, y.detach())
    assert dropout(x, 0.3, False) is x


@pytest.mark.parametrize("causal", [False, True])
def test_attention_with_dropout_is_scaled_dot_product_attention(causal):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 8, requires_grad=True) for _ in range(3))
    mask = None
    if not causal:
        mask = torch.ones(2, 1, 1, 7, dtype=torch.bool)
        mask[1, ..., 5:] = False
    ours = attention_with_dropout(q, k, v, mask, causal, 1e-12)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    assert torch.allclose(ours, reference, atol=1e-6)
    for a, b in zip(torch.autograd.grad(ours.sum(), (q, k, v)), torch.autograd.grad(reference.sum(), (q, k, v))):
        assert torch.allclose(a, b, atol=1e-6)


def test_attention_dropout_drops_attention_weights():
    torch.manual_seed(0)
    q, k = torch.zeros(1, 1, 4, 8), torch.zeros(1, 1, 4, 8)
    v = torch.eye(4, 8)[None, None]
    out = attention_with_dropout(q, k, v, None, False, 0.5)[0, 0, :, :4]  # row i = its dropped, rescaled weights
    assert set(out.unique().tolist()) <= {0.0, 0.5}
    assert 0 < (out == 0).sum() < 16


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc setting")
def test_cpu_runs_keep_freed_memory_for_the_next_step():
    code = ("import sys, torch\n"
            "from uer.runtime.memory import keep_freed_memory\n"
            "if sys.argv[1] == 'keep': assert keep_freed_memory()\n"
            "rss = lambda: int(open('/proc/self/statm').read().split()[1]) * 4096\n"
            "before = rss(); x = torch.ones(50_000_000); del x; print(rss() - before)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    kept = {mode: int(subprocess.run([sys.executable, "-c", code, mode], cwd=root, capture_output=True, text=True,
                                     check=True).stdout) for mode in ("default", "keep")}
    assert kept["default"] < 50e6 < 150e6 < kept["keep"]  # the freed 200 MB tensor: returned / kept


def tied_t5(dropout=0.0):
    from argparse import Namespace
    from uer.model_builder import build_model
    from uer.opts import load_config, MODEL_DEFAULTS, REPO_ROOT
    path = os.path.join(REPO_ROOT, "models", "t5_tiny_config.json")
    args = Namespace(**dict(MODEL_DEFAULTS, **load_config(path), config_path=path))
    args.dropout = dropout
    args.factorized_embedding_parameterization = args.parameter_sharing = args.bidirectional = False
    torch.manual_seed(0)
    return build_model(args, 50)


@pytest.mark.parametrize("through_output_layer", [True, False])
def test_tied_word_table_gets_the_dense_gradient_of_dense_lookups(through_output_layer):
    model = tied_t5()
    table = model.embedding.word_embedding.weight
    assert table is model.target.output_layer_to_tie().weight
    lookups = [m for m in model.modules() if getattr(m, "rows_only_gradient", False)]
    assert len(lookups) == 2  # the encoder's and the decoder's (shared) word tables
    torch.manual_seed(1)
    src, tgt = torch.randint(5, 50, (3, 7)), torch.randint(5, 50, (3, 6))
    targets = {"tgt_in": torch.roll(tgt, 1, 1), "tgt_seg": torch.ones_like(tgt), "lm": tgt}
    grads = []
    for rows_only in (True, False):
        for lookup in lookups:
            lookup.rows_only_gradient = rows_only
        model.zero_grad(set_to_none=True)
        loss = model.encode(src, torch.ones_like(src)).square().sum()  # the lookups alone: a sparse sum
        if through_output_layer:
            loss = loss + sum(p["loss_sum"] for p in model(src, targets, torch.ones_like(src)).values())
        loss.backward()
        assert table.grad.layout == torch.strided
        grads.append(table.grad.clone())
    assert torch.allclose(grads[0], grads[1], atol=1e-6, rtol=1e-5)
    assert grads[0][5:].abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_rms_norm_computes_llamas_formula(dtype):
    """weight * (x / sqrt(mean(x^2) + eps)), the normalisation in fp32 and cast back before the weight (as
    HuggingFace's LlamaRMSNorm), forward and backward, for a model in fp32 and one cast to bf16."""
    from uer.layers.layer_norm import RMSNorm
    torch.manual_seed(0)
    norm = RMSNorm(64, eps=1e-6).to(dtype)
    norm.weight.data.normal_()
    x = torch.randn(3, 5, 64, dtype=dtype, requires_grad=True)
    upstream = torch.randn(3, 5, 64, dtype=dtype)
    x32 = x.float()
    written = norm.weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-6)).to(dtype)
    expected = torch.autograd.grad(written, (x, norm.weight), upstream)
    ours = norm(x)
    assert torch.equal(ours, written)
    for got, want in zip(torch.autograd.grad(ours, (x, norm.weight), upstream), expected):
        assert torch.allclose(got.float(), want.float(), rtol=1e-5 if dtype == torch.float32 else 2 ** -7, atol=1e-6)
