"""Goodness, the Forward-Forward losses and RMS normalization
(skff.core.functional, pure functions)."""

import pytest
import torch

from skff.core import ff_loss, goodness, rms_normalize
from skff.core.functional import split_columns


def test_symba_loss_with_several_negatives():
    """With k negatives the SymBa loss is the cross-entropy of the positive
    among itself and its negatives, and equals the pairwise loss for k = 1."""
    g_pos = torch.tensor([1.0, 0.5])
    g_neg = torch.tensor([[0.2, 0.9], [0.5, 0.1]])
    got = ff_loss(g_pos, g_neg, kind="symba", symba_scale=4.0)
    logits = 4.0 * torch.cat([g_pos.unsqueeze(1), g_neg], dim=1)
    want = torch.nn.functional.cross_entropy(logits, torch.zeros(2, dtype=torch.long))
    torch.testing.assert_close(got, want)
    one = ff_loss(g_pos, g_neg[:, :1], kind="symba", symba_scale=4.0)
    torch.testing.assert_close(
        one, torch.nn.functional.softplus(-4.0 * (g_pos - g_neg[:, 0])).mean()
    )


def test_logistic_loss_is_the_mean_of_both_log_likelihoods():
    """sigmoid(g - threshold) is the probability of a positive: the loss is
    half the mean NLL of the positives plus half that of the negatives."""
    g_pos = torch.tensor([3.0, 1.0, 2.5])
    g_neg = torch.tensor([[0.5, 4.0], [1.0, 2.0], [3.0, 0.0]])
    got = ff_loss(g_pos, g_neg, kind="logistic", threshold=2.0)
    nll_pos = -torch.log(torch.sigmoid(g_pos - 2.0)).mean()
    nll_neg = -torch.log(1 - torch.sigmoid(g_neg - 2.0)).mean()
    torch.testing.assert_close(got, 0.5 * (nll_pos + nll_neg))


def test_goodness_mean_and_sum():
    h = torch.tensor([[1.0, -2.0, 2.0, 0.0], [0.0, 0.0, 0.0, 3.0]])
    torch.testing.assert_close(goodness(h, "sum"), torch.tensor([9.0, 9.0]))
    torch.testing.assert_close(goodness(h, "mean"), torch.tensor([2.25, 2.25]))
    torch.testing.assert_close(goodness(h), goodness(h, "mean"))
    # computed in float32 even for bfloat16 activities
    assert goodness(h.to(torch.bfloat16)).dtype == torch.float32


def test_rms_normalize_keeps_only_the_direction():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(6, 10, generator=g) * torch.arange(1.0, 7.0).unsqueeze(1)
    out = rms_normalize(h)
    torch.testing.assert_close(out.pow(2).mean(dim=1), torch.ones(6))
    # rows that differ only in length normalize alike
    torch.testing.assert_close(rms_normalize(5.0 * h), out)
    # an all-zero row stays zero (no division by zero)
    assert torch.equal(rms_normalize(torch.zeros(1, 4)), torch.zeros(1, 4))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: goodness(torch.ones(2, 3), "max"), "unknown goodness 'max'"),
        (
            lambda: ff_loss(torch.ones(2), torch.ones(2), kind="hinge"),
            "unknown loss 'hinge'",
        ),
    ],
)
def test_unknown_kind_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_split_columns_has_the_gradient_of_slicing():
    """One gradient buffer for both parts: the same values as two slices,
    when both parts or only one are used, and plain views without grad."""
    torch.manual_seed(0)
    w = torch.randn(5, 7, dtype=torch.float64, requires_grad=True)
    x = torch.randn(3, 4, dtype=torch.float64)
    c = torch.randn(3, 3, dtype=torch.float64)
    for use in ("both", "left", "right"):
        grads = []
        for split in (split_columns, lambda w, at: (w[:, :at], w[:, at:])):
            left, right = split(w, 4)
            out = 0
            if use != "right":
                out = out + (x @ left.t()).pow(2).sum()
            if use != "left":
                out = out + (c @ right.t()).sin().sum()
            (grad,) = torch.autograd.grad(out, w)
            grads.append(grad)
        assert torch.equal(grads[0], grads[1])
    left, right = split_columns(w.detach(), 4)
    assert left.shape == (5, 4) and right.shape == (5, 3)
    assert left.data_ptr() == w.data_ptr()  # views, not copies
