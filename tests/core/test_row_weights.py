"""Row weights in the cores: every local loss, the peer-normalization means
and the head's cross-entropy are weighted means over the rows, a row's
negatives carrying its weight, so that one training step with integer weights
is one step on the rows repeated that many times."""

import pytest
import torch

from skff.core import CONV_NETS, FFNet, RecurrentFFNet, ff_loss
from skff.core.functional import weighted_mean


def test_weighted_mean():
    v = torch.tensor([1.0, 2.0, 4.0])
    assert weighted_mean(v, torch.tensor([1.0, 0.0, 3.0])).item() == 13 / 4
    assert torch.equal(weighted_mean(v, None), v.mean())
    # (n, k) values: each row's mean, then weighted over the rows
    v2 = torch.tensor([[1.0, 3.0], [5.0, 7.0]])
    got = weighted_mean(v2, torch.tensor([3.0, 1.0]))
    torch.testing.assert_close(got, torch.tensor((3 * 2.0 + 6.0) / 4))
    # a batch whose weights are all zero: 0 and no gradient, not NaN
    v3 = torch.tensor([1.0, 2.0], requires_grad=True)
    out = weighted_mean(v3, torch.zeros(2))
    out.backward()
    assert out.item() == 0.0 and torch.equal(v3.grad, torch.zeros(2))


@pytest.mark.parametrize("kind", ["logistic", "symba"])
@pytest.mark.parametrize("k", [1, 3])
def test_ff_loss_with_integer_weights_is_the_loss_of_repeated_rows(kind, k):
    g = torch.Generator().manual_seed(0)
    g_pos = 4 * torch.rand(5, generator=g)
    g_neg = 4 * torch.rand(5, k, generator=g)
    w = torch.tensor([2, 0, 1, 3, 1])
    rep = torch.arange(5).repeat_interleave(w)
    got = ff_loss(g_pos, g_neg, kind=kind, weight=w.float())
    torch.testing.assert_close(got, ff_loss(g_pos[rep], g_neg[rep], kind=kind))
    assert not torch.allclose(got, ff_loss(g_pos, g_neg, kind=kind))


def _core(name, loss):
    # every wrong label is a negative of every row (n_negatives = n_classes -
    # 1), so the negatives of a row do not depend on the random draws; peer
    # normalization on, so that its weighted means are checked too
    objective = {
        "loss": loss,
        "negatives": "uniform",
        "n_negatives": 3,
        "peer_normalization": 0.03,
    }
    if name == "feedforward":
        net = FFNet(12, 4, [16, 8], objective=objective, seed=0)
    elif name == "recurrent":
        net = RecurrentFFNet(
            12,
            4,
            [16, 8],
            objective=objective,
            dynamics={"n_iterations": 3, "goodness_window": (1, 3)},
            input_scale=1.0,
            seed=0,
        )
    else:
        mode = name.split()[1]
        net = CONV_NETS[mode](12, 4, (1, 3, 4), [8, 8], objective=objective, seed=0)
    net.configure_training(learning_rate=0.01)
    return net


def _one_step(net, x, y, weight=None):
    """The losses of one training step and the gradient of every parameter."""
    grads = {}
    hooks = [
        p.register_hook(lambda g, name=name: grads.__setitem__(name, g.clone()))
        for name, p in net.named_parameters()
    ]
    losses = net.train_step(x, y, torch.Generator().manual_seed(0), weight=weight)
    for hook in hooks:
        hook.remove()
    assert set(grads) == {name for name, _ in net.named_parameters()}
    return losses, grads


CORES = ["feedforward", "recurrent", "conv channelwise", "conv input"]


@pytest.mark.parametrize("loss", ["symba", "logistic"])
@pytest.mark.parametrize("name", CORES)
def test_a_step_with_integer_weights_is_a_step_on_repeated_rows(name, loss):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(5, 12, generator=g)
    y = torch.tensor([0, 1, 2, 3, 1])
    w = torch.tensor([2, 0, 1, 3, 1])
    rep = torch.arange(5).repeat_interleave(w)
    losses, grads = _one_step(_core(name, loss), x, y, w.float())
    want_losses, want_grads = _one_step(_core(name, loss), x[rep], y[rep])
    torch.testing.assert_close(losses, want_losses, rtol=1e-5, atol=1e-6)
    for key, grad in grads.items():
        # (gradients reach 25 in the batch-normalized conv blocks: float32
        # sums in another order differ there by a few 1e-6)
        atol = 1e-5 if name.startswith("conv") else 1e-6
        torch.testing.assert_close(grad, want_grads[key], rtol=1e-4, atol=atol)
    # the weights matter: the unweighted step on the five rows is another one
    plain, _ = _one_step(_core(name, loss), x, y)
    assert not torch.allclose(plain, losses, rtol=1e-3)
    # and weights that are all equal are no weights
    same, _ = _one_step(_core(name, loss), x, y, torch.full((5,), 2.5))
    torch.testing.assert_close(same, plain, rtol=1e-5, atol=1e-6)
