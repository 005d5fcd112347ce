"""The convolutional cores: their batch normalization, the two networks, and
models saved with the former single class ``ConvFFNet``."""

import numpy as np
import pytest
import torch

from skff._persistence import _load_core
from skff.core import (
    CONV_NETS,
    CORES,
    ChannelwiseConvNet,
    ConvStackNet,
    LabelInputConvNet,
)
from skff.core.conv import BatchChannelNorm


def test_batch_norm_standardizes_each_channel_over_rows_and_positions():
    norm = BatchChannelNorm(3)
    h = 5 + 2 * torch.randn(8, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    out = norm(h)
    torch.testing.assert_close(
        out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(
        out.var(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3, rtol=0
    )
    # the running averages moved a tenth of the way to the batch's statistics
    torch.testing.assert_close(norm.running_mean, 0.1 * h.mean(dim=(0, 2, 3)))


def test_batch_norm_weights_are_repeated_rows():
    h = torch.randn(4, 2, 5, generator=torch.Generator().manual_seed(1))
    w = torch.tensor([2.0, 0.0, 1.0, 3.0])
    rep = torch.arange(4).repeat_interleave(w.long())
    a, b = BatchChannelNorm(2), BatchChannelNorm(2)
    torch.testing.assert_close(a(h, w)[rep], b(h[rep]))
    torch.testing.assert_close(a.running_var, b.running_var)


def test_batch_norm_of_one_value_per_channel_uses_the_running_averages():
    norm = BatchChannelNorm(2)
    norm.running_mean.fill_(1.0)
    norm.running_var.fill_(4.0)
    out = norm(torch.tensor([[3.0, 5.0]]))  # training mode, one row, no positions
    torch.testing.assert_close(out, torch.tensor([[1.0, 2.0]]), atol=1e-4, rtol=0)
    torch.testing.assert_close(norm.running_var, torch.full((2,), 4.0))


def test_prediction_does_not_move_the_running_averages():
    net = ChannelwiseConvNet(16, 2, (1, 4, 4), [4, 4], seed=0)
    net.configure_training(learning_rate=0.01)
    x = torch.rand(6, 16, generator=torch.Generator().manual_seed(2))
    net.train_step(x, torch.tensor([0, 1, 0, 1, 0, 1]))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.eval()
    with torch.no_grad():
        net.label_logits(x)
        net.head_logits(x)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not torch.equal(before["layers.0.norm.running_mean"], torch.zeros(4))


def test_batch_norm_of_a_batch_without_weight_changes_nothing():
    # an all-zero-weight batch (its loss is 0) must not drag the running
    # averages toward 0; nor may a single weighted value per channel
    norm = BatchChannelNorm(2)
    norm.running_mean.fill_(3.0)
    norm.running_var.fill_(4.0)
    h = torch.randn(5, 2, 1, generator=torch.Generator().manual_seed(3))
    for w in (torch.zeros(5), torch.tensor([0.0, 2.0, 0.0, 0.0, 0.0])):
        out = norm(h, w)
        torch.testing.assert_close(norm.running_mean, torch.full((2,), 3.0))
        torch.testing.assert_close(norm.running_var, torch.full((2,), 4.0))
        torch.testing.assert_close(out, (h - 3.0) / (4.0 + norm.eps) ** 0.5)
    # two weighted rows: the batch statistics again
    norm(h, torch.tensor([0.0, 2.0, 1.0, 0.0, 0.0]))
    assert not torch.equal(norm.running_mean, torch.full((2,), 3.0))


def test_the_scale_and_shift_of_batch_norm_are_trained():
    net = ChannelwiseConvNet(16, 2, (1, 4, 4), [4, 4], seed=0)
    net.configure_training(learning_rate=0.01)
    x = torch.rand(6, 16, generator=torch.Generator().manual_seed(2))
    net.train_step(x, torch.tensor([0, 1, 0, 1, 0, 1]))
    for layer in net.layers:
        assert not torch.equal(layer.norm.weight.detach(), torch.ones(4))
        assert not torch.equal(layer.norm.bias.detach(), torch.zeros(4))


@pytest.mark.parametrize("label_mode", ["channelwise", "input"])
def test_both_readouts_from_one_call_are_the_two_readouts(label_mode):
    net = CONV_NETS[label_mode](16, 3, (1, 4, 4), [6, 6], seed=0)
    net.configure_training(learning_rate=0.01)
    x = torch.rand(8, 16, generator=torch.Generator().manual_seed(4))
    net.train_step(x, torch.arange(8) % 3, torch.Generator().manual_seed(0))
    net.eval()
    with torch.no_grad():
        goodness, head = net.readout_logits(x)
        assert torch.equal(goodness, net.label_logits(x))
        assert torch.equal(head, net.head_logits(x))


def test_batch_norm_without_autograd_reads_the_running_averages():
    # prediction runs without autograd; a warm refit in another thread may
    # hold the network in training mode meanwhile
    net = ChannelwiseConvNet(16, 2, (1, 4, 4), [4, 4], seed=0)
    net.configure_training(learning_rate=0.01)
    x = torch.rand(6, 16, generator=torch.Generator().manual_seed(2))
    net.train_step(x, torch.tensor([0, 1, 0, 1, 0, 1]))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert net.training
    with torch.inference_mode():
        live = net.label_logits(x[:3])
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    net.eval()
    with torch.inference_mode():
        assert torch.equal(live, net.label_logits(x[:3]))


@pytest.mark.parametrize("cls", [ChannelwiseConvNet, LabelInputConvNet])
@pytest.mark.parametrize("input_shape", [(1, 4, 4), (2, 8)])
def test_each_conv_net_builds_and_trains_a_step(cls, input_shape):
    net = cls(16, 3, input_shape, [6, 6], objective={"peer_normalization": 0.03})
    assert isinstance(net, ConvStackNet)
    assert CORES[cls.__name__] is cls
    # the label-input net reads the label as n_classes more input channels
    label_channels = 3 if cls is LabelInputConvNet else 0
    assert net.layers[0].weight.shape[1] == input_shape[0] + label_channels
    net.configure_training(learning_rate=0.01)
    x = torch.rand(8, 16, generator=torch.Generator().manual_seed(0))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    losses = net.train_step(x, torch.arange(8) % 3, torch.Generator().manual_seed(1))
    assert losses.shape == (3,)  # two blocks and the head
    assert bool(torch.isfinite(losses).all())
    for key in ("layers.0.weight", "layers.1.weight", "head.weight", "peer_mean_0"):
        assert not torch.equal(net.state_dict()[key], before[key]), key
    net.eval()
    with torch.no_grad():
        assert net.label_logits(x).shape == (8, 3)
        assert net.head_logits(x).shape == (8, 3)
    assert "label_mode" not in net.get_config()


def test_channelwise_needs_a_channel_group_per_class():
    with pytest.raises(ValueError, match="channelwise"):
        ChannelwiseConvNet(16, 5, (1, 4, 4), [4, 8])
    LabelInputConvNet(16, 5, (1, 4, 4), [4, 8])  # no groups: fine


@pytest.mark.parametrize("label_mode", ["channelwise", "input", None])
def test_a_saved_conv_ffnet_loads_into_the_net_of_its_label_mode(label_mode):
    # models saved before the split name "ConvFFNet" and hold label_mode
    # (none at all: the former default, "channelwise")
    cls = CONV_NETS[label_mode or "channelwise"]
    net = cls(16, 3, (1, 4, 4), [6, 6], seed=0)
    net.configure_training(learning_rate=0.01)
    x = torch.rand(8, 16, generator=torch.Generator().manual_seed(0))
    net.train_step(x, torch.arange(8) % 3, torch.Generator().manual_seed(1))
    net.eval()
    config = net.get_config()
    if label_mode is not None:
        config["label_mode"] = label_mode
    state = {
        "class": "ConvFFNet",
        "config": config,
        "weights": {k: v.numpy().copy() for k, v in net.state_dict().items()},
    }
    loaded = _load_core(state, "FFConvClassifier")
    assert type(loaded) is cls
    assert loaded.get_config() == net.get_config()
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key].numpy(), value.numpy())
    with torch.no_grad():
        assert torch.equal(loaded.label_logits(x), net.label_logits(x))
        assert torch.equal(loaded.head_logits(x), net.head_logits(x))


def test_a_saved_conv_ffnet_with_an_unknown_label_mode_is_a_format_error():
    from skff.exceptions import ModelFormatError

    net = ChannelwiseConvNet(16, 3, (1, 4, 4), [6, 6])
    state = {
        "class": "ConvFFNet",
        "config": {**net.get_config(), "label_mode": "nope"},
        "weights": {k: v.numpy() for k, v in net.state_dict().items()},
    }
    with pytest.raises(ModelFormatError):
        _load_core(state, "FFConvClassifier")


# -- residual blocks ------------------------------------------------------------------
def _residual_net(**kwargs):
    settings = dict(
        pooling_schedule="stage",
        shortcut="add",
        normalization="group",
        goodness_power=1,
    )
    settings.update(kwargs)
    return ChannelwiseConvNet(64, 3, (1, 8, 8), [4, 4, 8, 8, 6], **settings)


def test_the_stage_schedule_pools_after_each_run_of_equal_widths():
    net = _residual_net()
    assert [layer.pool_kernel is not None for layer in net.layers] == [
        False,
        True,
        False,
        True,
        True,
    ]
    assert [shape[1:] for shape in net.block_shapes] == [
        (8, 8),
        (4, 4),
        (4, 4),
        (2, 2),
        (1, 1),
    ]
    every = ChannelwiseConvNet(64, 3, (1, 8, 8), [4, 4, 8])
    assert all(layer.pool_kernel is not None for layer in every.layers)


def test_the_shortcut_pools_widens_and_skips_narrowing_blocks():
    net = _residual_net()
    x = torch.rand(5, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        outs, passed = net._passes(x)
    # block 1 pools (8x8 -> 4x4) at equal width: the input average-pooled
    inp = passed[0]
    skip = net._shortcut(1, inp)
    assert torch.equal(skip, torch.nn.functional.avg_pool2d(inp, 2, 2))
    assert torch.equal(passed[1], net._normalized(1, outs[1]) + skip)
    # block 2 widens 4 -> 8 channels at 4x4: zero channels appended
    skip = net._shortcut(2, passed[1])
    assert skip.shape == (5, 8, 4, 4)
    assert torch.equal(skip[:, :4], passed[1]) and not skip[:, 4:].any()
    # block 4 narrows 8 -> 6: no shortcut, the normalized output alone
    assert net._shortcut(4, passed[3]) is None
    assert torch.equal(passed[4], net._normalized(4, outs[4]))
    # the first block's input is the image: no shortcut there
    assert torch.equal(passed[0], net._normalized(0, outs[0]))
    for shape, out, on in zip(net.block_shapes, outs, passed, strict=True):
        assert out.shape[1:] == on.shape[1:] == shape


def test_residual_blocks_are_trained_locally():
    """Each block's loss reaches its own parameters only, through the
    shortcuts too."""
    net = _residual_net()
    net.configure_training(learning_rate=0.01)
    checked = []
    step = net.update_layer

    def update_layer(i, loss):
        others = [
            p
            for j, layer in enumerate(net.layers)
            if j != i
            for p in layer.parameters()
        ]
        grads = torch.autograd.grad(loss, others, retain_graph=True, allow_unused=True)
        assert all(g is None for g in grads), i
        checked.append(i)
        step(i, loss)

    net.update_layer = update_layer
    x = torch.rand(6, 64, generator=torch.Generator().manual_seed(0))
    losses = net.train_step(x, torch.arange(6) % 3)
    assert checked == [0, 1, 2, 3, 4]
    assert bool(torch.isfinite(losses).all())


def test_residual_training_is_deterministic():
    x = torch.rand(12, 64, generator=torch.Generator().manual_seed(0))
    y = torch.arange(12) % 3
    states = []
    for _ in range(2):
        net = _residual_net(seed=3)
        net.configure_training(learning_rate=0.01)
        for _ in range(3):
            net.train_step(x, y)
        states.append(net.state_dict())
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key


def test_group_normalization_standardizes_each_class_group_per_sample():
    net = _residual_net()
    h = torch.rand(4, 8, 3, 3, generator=torch.Generator().manual_seed(0)) * 5
    out = net._normalized(2, h)  # 8 channels in 3 groups of 3, 3, 2
    groups = net._class_groups(2)
    assert groups.sum(dim=0).tolist() == [3.0, 3.0, 2.0]
    for g in range(3):
        part = out[:, groups[:, g].bool()].flatten(1)
        assert torch.allclose(part.mean(dim=1), torch.zeros(4), atol=1e-5)
        assert torch.allclose(part.var(dim=1, unbiased=False), torch.ones(4), atol=1e-3)
    layer = _residual_net(normalization="layer")._normalized(2, h).flatten(1)
    assert torch.allclose(layer.mean(dim=1), torch.zeros(4), atol=1e-5)


def test_mean_goodness_is_the_mean_activity_of_each_class_group():
    net = _residual_net()
    h = torch.rand(4, 8, 3, 3, generator=torch.Generator().manual_seed(0))
    groups = net._class_groups(2)
    expected = torch.stack(
        [h[:, groups[:, g].bool()].flatten(1).mean(dim=1) for g in range(3)], dim=1
    )
    assert torch.allclose(net.class_goodness(2, h), expected, atol=1e-6)
    squared = _residual_net(goodness_power=2, normalization="layer")
    assert torch.allclose(
        squared.class_goodness(2, h),
        torch.stack(
            [h[:, groups[:, g].bool()].pow(2).flatten(1).mean(dim=1) for g in range(3)],
            dim=1,
        ),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "kwargs", [dict(normalization="group"), dict(goodness_power=1)]
)
def test_class_group_settings_need_the_channelwise_net(kwargs):
    with pytest.raises(ValueError, match="channelwise"):
        LabelInputConvNet(64, 3, (1, 8, 8), [4, 4], **kwargs)


def test_a_residual_input_mode_net_trains():
    net = LabelInputConvNet(
        64,
        3,
        (1, 8, 8),
        [4, 4, 8],
        pooling_schedule="stage",
        shortcut="add",
        normalization="layer",
    )
    net.configure_training(learning_rate=0.01)
    x = torch.rand(6, 64, generator=torch.Generator().manual_seed(0))
    losses = net.train_step(x, torch.arange(6) % 3, torch.Generator().manual_seed(1))
    assert losses.shape == (4,) and bool(torch.isfinite(losses).all())
    with torch.no_grad():
        assert net.head_logits(x).shape == (6, 3)
        assert net.label_logits(x).shape == (6, 3)


@pytest.mark.parametrize("key", ["pooling_schedule", "shortcut", "goodness_power"])
def test_unknown_residual_settings_are_refused(key):
    with pytest.raises(ValueError, match=key):
        _residual_net(**{key: "nope"})
