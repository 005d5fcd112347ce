"""The parts of the self-contrastive recipe in the unsupervised cores, each on
its own: pairs through shared first-layer weights, per-row standardization,
the triangle activation, the two-threshold loss, goodness per position,
greedy layer training; and locality, determinism, shapes."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skff.core import UnsupervisedConvNet, UnsupervisedFFNet

rng = np.random.RandomState(0)
IMAGES = torch.as_tensor(rng.rand(24, 2 * 6 * 6), dtype=torch.float32)
ROWS = torch.as_tensor(rng.rand(24, 12), dtype=torch.float32)

SCFF = dict(
    negatives="self_contrastive",
    pair_weights="shared",
    input_normalization="standardize",
    activation="triangle",
)


def _fc(**kw):
    return UnsupervisedFFNet(12, [8, 6], **{**SCFF, **kw})


def _conv(**kw):
    return UnsupervisedConvNet(72, (2, 6, 6), [4, 5], **{**SCFF, **kw})


def _params(module):
    return {id(p) for p in module.parameters()}


# -- pairs ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", [_fc, _conv])
def test_shared_pairs_are_twice_the_row_or_the_row_plus_another(make):
    core = make()
    x = core.prepare(IMAGES if isinstance(core, UnsupervisedConvNet) else ROWS)
    torch.testing.assert_close(core.positive(x), 2 * x)
    neg = core.negative(x, torch.Generator().manual_seed(0))
    other = neg - x  # the partner row
    match = (other.unsqueeze(1) - x.unsqueeze(0)).abs().amax(dim=2) < 1e-6
    partner = match.float().argmax(dim=1)
    assert bool(match.any(dim=1).all()), "a partner is not a row of the batch"
    assert bool((partner != torch.arange(len(x))).all()), "a row paired with itself"


def test_shared_pairs_keep_the_first_layer_as_wide_as_a_row():
    assert _fc().layers[0].weight.shape == (8, 12)
    assert _fc(pair_weights="separate").layers[0].weight.shape == (8, 24)
    assert _conv().layers[0].weight.shape[1] == 2  # the image's channels
    assert _conv(pair_weights="separate").layers[0].weight.shape[1] == 4


def test_the_first_layer_reads_both_halves_through_the_same_weights():
    core = _fc()
    x1, x2 = ROWS[:5], ROWS[5:10]
    layer = core.layers[0]
    layer.bias.data.uniform_(-1, 1)
    expected = x1 @ layer.weight.T + x2 @ layer.weight.T + 2 * layer.bias
    torch.testing.assert_close(core.pre_activation(0, x1 + x2), expected)
    conv = _conv()
    block = conv.layers[0]
    block.bias.data.uniform_(-1, 1)
    a, b = (t.view(-1, 2, 6, 6) for t in (IMAGES[:5], IMAGES[5:10]))
    expected = F.conv2d(a, block.weight, padding=1) + F.conv2d(
        b, block.weight, padding=1
    )
    expected = expected + 2 * block.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(conv.pre_activation(0, a + b), expected)


# -- input, activation, loss -----------------------------------------------------------
def test_standardize_scales_every_centered_row():
    core = _fc()
    core.set_input_offset(ROWS.mean(dim=0))
    x = core.prepare(ROWS)
    torch.testing.assert_close(x.mean(dim=1), torch.zeros(len(x)), atol=1e-6, rtol=0)
    torch.testing.assert_close(x.pow(2).mean(dim=1), torch.ones(len(x)))
    centered = _fc(input_normalization="center")
    centered.set_input_offset(ROWS.mean(dim=0))
    torch.testing.assert_close(centered.prepare(ROWS), ROWS - ROWS.mean(dim=0))


def test_triangle_subtracts_the_mean_over_units_then_rectifies():
    z = torch.randn(4, 5, 3, 3)
    core = _conv()
    torch.testing.assert_close(
        core.activate(z), F.relu(z - z.mean(dim=1, keepdim=True))
    )
    relu = _conv(activation="relu")
    torch.testing.assert_close(relu.activate(z), F.relu(z))
    # the goodness reads relu(z) whatever is handed on
    torch.testing.assert_close(core.block_goodness(z), relu.block_goodness(z))


def test_two_threshold_loss_with_positive_penalty():
    core = _fc()
    core.set_objective(dict(loss="logistic", threshold=4.0, goodness="mean"))
    core.set_training(negative_threshold=6.0, positive_penalty=0.01)
    g_pos, g_neg = torch.tensor([3.0, 5.0]), torch.tensor([7.0, 1.0])
    expected = (
        F.softplus(4.0 - g_pos).mean() + F.softplus(g_neg - 6.0).mean() + 0.01 * 4.0
    )
    torch.testing.assert_close(core.pair_loss(g_pos, g_neg), expected)
    core.set_training(negative_threshold=None)  # one threshold: Hinton's loss
    expected = 0.5 * (F.softplus(4.0 - g_pos).mean() + F.softplus(g_neg - 4.0).mean())
    torch.testing.assert_close(core.pair_loss(g_pos, g_neg), expected)


# -- goodness per position -------------------------------------------------------------
def test_conv_goodness_is_per_position():
    core = _conv()
    core.set_objective(dict(goodness="mean"))
    z = torch.randn(3, 4, 6, 6)
    g = core.block_goodness(z)
    assert g.shape == (3, 36)
    torch.testing.assert_close(g, F.relu(z).pow(2).mean(dim=1).flatten(1))
    image = _conv(goodness_scope="image")
    image.set_objective(dict(goodness="mean"))
    torch.testing.assert_close(
        image.block_goodness(z), F.relu(z).pow(2).flatten(1).mean(1)
    )


def test_per_position_loss_pairs_positions():
    core = _conv()
    g_pos = torch.tensor([[1.0, 3.0], [2.0, 0.0]])
    g_neg = torch.tensor([[0.0, 4.0], [1.0, 1.0]])
    s = core.objective.symba_scale
    expected = F.softplus(-s * (g_pos - g_neg)).mean()
    torch.testing.assert_close(core.pair_loss(g_pos, g_neg), expected)
    # not the loss of the images' mean goodness
    whole = core.pair_loss(g_pos.mean(dim=1), g_neg.mean(dim=1))
    assert not torch.allclose(whole, expected)


# -- training ----------------------------------------------------------------------
@pytest.mark.parametrize("make", [_fc, _conv])
@pytest.mark.parametrize("layer_training", ["joint", "greedy"])
def test_each_block_loss_reaches_only_its_own_parameters(make, layer_training):
    core = make(layer_training=layer_training, positive_penalty=0.01)
    core.configure_training(learning_rate=0.01)
    data = IMAGES if isinstance(core, UnsupervisedConvNet) else ROWS
    reached = {}

    def update_layer(i, loss):  # what each local step's gradient reaches
        core.zero_grad(set_to_none=True)
        loss.backward()
        reached[i] = {id(p) for p in core.parameters() if p.grad is not None}

    core.update_layer = update_layer
    epochs = [0] if layer_training == "joint" else [0, 1]
    for epoch in epochs:
        core.begin_epoch(epoch, len(epochs))
        core.train_step(data, None, torch.Generator().manual_seed(0))
    assert sorted(reached) == list(range(core.n_layers))
    for i, touched in reached.items():
        assert touched == _params(core.layers[i]), f"block {i}"


@pytest.mark.parametrize("make", [_fc, _conv])
def test_greedy_training_trains_one_layer_at_a_time(make):
    core = make(layer_training="greedy")
    core.configure_training(learning_rate=0.01)
    data = IMAGES if isinstance(core, UnsupervisedConvNet) else ROWS
    phases = [core.begin_epoch(e, 4) for e in range(4)]
    assert phases == [(0, 2), (1, 2), (0, 2), (1, 2)]  # the schedule restarts
    for epoch, trained in [(0, 0), (3, 1)]:
        core.begin_epoch(epoch, 4)
        before = [layer.weight.detach().clone() for layer in core.layers]
        losses = core.train_step(data, None, torch.Generator().manual_seed(0))
        for i, layer in enumerate(core.layers):
            moved = not torch.equal(layer.weight, before[i])
            assert moved == (i == trained), (epoch, i)
        assert losses.shape == (2,)
        if trained == 0:
            assert losses[1] == 0  # not run
    # fewer epochs than layers (partial_fit): every layer trains
    assert core.begin_epoch(0, 1) == (0, 1) and core.trained_layers is None


@pytest.mark.parametrize("make", [_fc, _conv])
def test_training_is_deterministic(make):
    outs = []
    for seed in (0, 0, 1):
        core = make(seed=seed)
        core.configure_training(learning_rate=0.01)
        data = IMAGES if isinstance(core, UnsupervisedConvNet) else ROWS
        for step in range(3):
            core.train_step(data, None, torch.Generator().manual_seed(step))
        outs.append(core.features(data))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)
    assert not torch.equal(outs[0], outs[2])


# -- shapes ------------------------------------------------------------------------
def test_conv_features_pool_every_block_to_a_small_grid():
    core = UnsupervisedConvNet(
        1 * 28 * 28, (1, 28, 28), [4, 6, 8], feature_grid=4, **SCFF
    )
    assert core.block_shapes == [(4, 14, 14), (6, 7, 7), (8, 3, 3)]
    assert core.n_features_out == 4 * 16 + 6 * 16 + 8 * 9
    x = torch.rand(3, 784)
    f = core.features(x)
    assert f.shape == (3, core.n_features_out)
    # every block's part is layer-normalized
    for part in torch.split(f, [64, 96, 72], dim=1):
        torch.testing.assert_close(
            part.pow(2).mean(dim=1), torch.ones(3), atol=1e-4, rtol=0
        )
    core.set_output_layers([2])
    assert core.features(x).shape == (3, 72)


def test_conv_reads_signals():
    core = UnsupervisedConvNet(3 * 20, (3, 20), [4, 4], feature_grid=3, **SCFF)
    assert core.block_shapes == [(4, 10), (4, 5)]
    assert core.features(torch.rand(2, 60)).shape == (2, 4 * 3 + 4 * 3)
    core.configure_training(learning_rate=0.01)
    losses = core.train_step(torch.rand(8, 60), None, torch.Generator().manual_seed(0))
    assert bool(torch.isfinite(losses).all())


def test_conv_core_needs_a_shape_and_checks_settings():
    with pytest.raises(ValueError, match="input_shape"):
        UnsupervisedConvNet(72, None, [4])
    with pytest.raises(ValueError, match="channels"):
        UnsupervisedConvNet(72, (2, 6, 6), [0])
    with pytest.raises(ValueError, match="goodness_scope"):
        UnsupervisedConvNet(72, (2, 6, 6), [4], goodness_scope="pixel")
    for name, bad in [
        ("pair_weights", "tied"),
        ("activation", "tanh"),
        ("input_normalization", "whiten"),
        ("layer_training", "random"),
    ]:
        with pytest.raises(ValueError, match=name):
            UnsupervisedFFNet(12, [4], **{name: bad})
    with pytest.raises(ValueError, match="positive_penalty"):
        UnsupervisedFFNet(12, [4], positive_penalty=-1.0)


def test_config_round_trips():
    for core in (_fc(negative_threshold=3.0, positive_penalty=0.1), _conv()):
        config = core.get_config()
        again = type(core)(**config)
        assert again.get_config() == config
    assert math.isclose(_fc(negative_threshold=3).negative_threshold, 3.0)
