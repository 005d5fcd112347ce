"""skff.core.parallel in one process: stage placement, and the pipeline's
order against the cores' own training step."""

import copy

import pytest
import torch

from skff.core import ChannelwiseConvNet, FFNet, LabelInputConvNet
from skff.core.parallel import balanced_stages, simulate_pipeline


@pytest.mark.parametrize(
    "costs, n, expected",
    [
        ([4, 1, 1, 1, 1], 2, [(0, 1), (1, 5)]),
        ([1, 1, 1, 1], 2, [(0, 2), (2, 4)]),
        ([3, 3, 1, 1, 1, 1], 3, [(0, 1), (1, 2), (2, 6)]),
        ([5, 2, 2], 1, [(0, 3)]),
        ([1, 9, 1], 3, [(0, 1), (1, 2), (2, 3)]),
    ],
)
def test_balanced_stages_minimize_the_costliest_stage(costs, n, expected):
    assert balanced_stages(costs, n) == expected


def test_more_stages_than_layers_is_an_error():
    with pytest.raises(ValueError, match="3 stages needs at least 3 layers"):
        balanced_stages([1.0, 2.0], 3)


def _data(n=150, d=64, c=4):
    gen = torch.Generator().manual_seed(0)
    return torch.rand(n, d, generator=gen), torch.randint(0, c, (n,), generator=gen)


def _train(core, x, y, stages=None, epochs=2, batch=32):
    """``core`` trained in its own steps (``stages=None``) or in the
    pipeline's order of ``stages`` stages; its state."""
    core = copy.deepcopy(core)
    core.configure_training(learning_rate=0.01)

    def fetch(idx, with_x):
        return (x[idx] if with_x else None), y[idx], None

    for epoch in range(epochs):
        gen = torch.Generator().manual_seed(10 + epoch)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        if stages is None:
            for start in range(0, len(x), batch):
                core.train_step(*fetch(order[start : start + batch], True)[:2], gen)
        else:
            simulate_pipeline(core, stages, order, batch, fetch, gen)
    return core.state_dict()


def _equal(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


FF = FFNet(64, 4, [40, 30, 30], seed=1)
CONV = ChannelwiseConvNet(64, 4, (1, 8, 8), (8, 8, 8), seed=1)


@pytest.mark.parametrize("core", [FF, CONV], ids=["ffnet", "conv"])
def test_one_stage_is_the_cores_own_training(core):
    x, y = _data()
    assert _equal(_train(core, x, y), _train(core, x, y, stages=1))


def test_conv_pipeline_trains_the_sequential_model():
    # no block reads a later one: each trains on the same inputs in the same
    # order whatever the stages
    x, y = _data()
    sequential = _train(CONV, x, y)
    for stages in (2, 3):
        assert _equal(sequential, _train(CONV, x, y, stages=stages))


def test_feedforward_pipeline_draws_negatives_from_older_beliefs():
    # the belief pass runs one mini-batch ahead per extra stage: another model,
    # still one that learns
    x, y = _data()
    two = _train(FF, x, y, stages=2)
    assert not _equal(_train(FF, x, y), two)
    assert _equal(two, _train(FF, x, y, stages=2))


def test_layer_costs_follow_the_shapes():
    # one negative per row: 2 rows of 3 products and the belief pass's
    assert FF.layer_costs() == [4 * 68.0 * 40, 7 * 40.0 * 30, 7 * 30.0 * 30]
    # 3x3 kernels, 1 image channel, 8 output channels, 8x8 positions
    assert CONV.layer_costs()[0] == (9 * 1 + CONV.ELEMENTWISE_COST) * 8 * 64
    x, y = _data()
    with pytest.raises(ValueError, match="LabelInputConvNet does not train in a"):
        _train(LabelInputConvNet(64, 4, (1, 8, 8), (8, 8)), x, y, stages=2)
