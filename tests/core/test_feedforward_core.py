"""FFNet, the feed-forward core: layer-local training, the per-label readout,
and the pairing of negatives with their positives."""

import pytest
import torch

from skff.core import FFNet, RecurrentFFNet, rms_normalize


def test_layers_are_trained_locally():
    """No gradient crosses a layer: each layer's update depends only on its own
    loss, so freezing one layer's input leaves the other layers' steps as they
    were."""
    torch.manual_seed(0)
    x = torch.rand(32, 20)
    y = torch.randint(0, 4, (32,))
    net = FFNet(
        20, 4, [16, 16, 16], objective={"loss": "logistic", "negatives": "uniform"}
    )
    net.configure_training(learning_rate=0.1)
    seen = []
    for i, layer in enumerate(net.layers):
        layer.weight.register_hook(lambda g, i=i: seen.append(i))
    net.train_step(x, y, torch.Generator().manual_seed(0))
    # each layer's weight got exactly one gradient, from its own loss
    assert seen == [0, 1, 2]
    # and the input a layer trains on carries no autograd history
    part = net._input_part(x)
    h = torch.relu(part + net._label_columns()[y])
    nxt = net.layers[1](rms_normalize(h.detach()))
    grads = torch.autograd.grad(
        nxt.sum(), list(net.layers[0].parameters()), allow_unused=True
    )
    assert all(g is None for g in grads)


def test_label_logits_match_one_pass_per_label():
    """The per-label readout computes layer 1's input part once; it must equal
    running the whole net once for each label."""
    net = FFNet(
        12, 5, [16, 8], label_injection="overlay", objective={"loss": "logistic"}
    )
    x = torch.rand(7, 12)
    fast = net.label_logits(x)
    slow = torch.stack(
        [net.layer_goodness(x, torch.full((7,), c)).sum(1) for c in range(5)], dim=1
    )
    torch.testing.assert_close(fast, slow)


@pytest.mark.parametrize("negatives", ["uniform", "hard", "hardest"])
def test_negatives_are_paired_with_their_positives(training_spy, negatives):
    """With k negatives, the loss sees column j of g_neg = the goodness of each
    positive's input under its j-th wrong label (row by row)."""
    record = training_spy(FFNet)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(7, 12, generator=g), torch.randint(0, 6, (7,), generator=g)
    objective = {"negatives": negatives, "n_negatives": 3}
    net = FFNet(12, 6, [16, 16], objective=objective, seed=1)
    net.configure_training(learning_rate=0.05)
    with torch.no_grad():
        before = [net.layer_goodness(x, torch.full((7,), c))[:, 0] for c in range(6)]
    net.train_step(x, y, g)
    y_neg = record["negatives"][0][1].view(3, 7)
    g_neg = record["losses"][0][1]
    assert g_neg.shape == (7, 3)
    for j in range(3):
        want = torch.stack([before[c][r] for r, c in enumerate(y_neg[j].tolist())])
        torch.testing.assert_close(g_neg[:, j], want)


@pytest.mark.parametrize("core_class", [FFNet, RecurrentFFNet])
def test_both_readouts_share_the_label_free_pass(core_class, monkeypatch):
    """``readout_logits`` computes the label-free part (layer 0's input part;
    for the recurrent net also the bottom-up pass) once for both readouts,
    with the same values as the readouts one by one."""
    net = core_class(12, 3, [16, 16], seed=0)
    net.configure_training(learning_rate=0.01)
    x = torch.rand(8, 12, generator=torch.Generator().manual_seed(1))
    net.train_step(x, torch.arange(8) % 3, torch.Generator().manual_seed(0))
    calls = []
    input_part = core_class._input_part

    def spy(self, xb):
        calls.append(len(xb))
        return input_part(self, xb)

    monkeypatch.setattr(core_class, "_input_part", spy)
    with torch.no_grad():
        goodness, head = net.readout_logits(x)
        assert calls == [8]
        assert torch.equal(goodness, net.label_logits(x))
        assert torch.equal(head, net.head_logits(x))


def test_residual_layers_pass_on_their_input_where_widths_match():
    net = FFNet(10, 3, [8, 8, 6], shortcut="add")
    h, inp = torch.rand(4, 8), rms_normalize(torch.rand(4, 8))
    assert torch.equal(net._passed_on(0, h, None), rms_normalize(h))
    assert torch.equal(net._passed_on(1, h, inp), rms_normalize(rms_normalize(h) + inp))
    narrower = torch.rand(4, 6)
    assert torch.equal(net._passed_on(2, narrower, inp), rms_normalize(narrower))
    plain = FFNet(10, 3, [8, 8, 6])
    assert torch.equal(plain._passed_on(1, h, inp), rms_normalize(h))
    with pytest.raises(ValueError, match="shortcut"):
        FFNet(10, 3, [8, 8], shortcut="concat")


def test_residual_layers_are_trained_locally():
    """Each layer's loss reaches its own parameters only, through the
    shortcuts too; and the residual net trains deterministically."""
    x = torch.rand(16, 10, generator=torch.Generator().manual_seed(0))
    y = torch.arange(16) % 3
    states = []
    for _ in range(2):
        net = FFNet(10, 3, [8, 8, 8], shortcut="add", seed=1)
        net.configure_training(learning_rate=0.05)
        checked, step = [], net.update_layer

        def update_layer(i, loss, net=net, checked=checked, step=step):
            others = [
                p
                for j, layer in enumerate(net.layers)
                if j != i
                for p in layer.parameters()
            ]
            grads = torch.autograd.grad(
                loss, others, retain_graph=True, allow_unused=True
            )
            assert all(g is None for g in grads), i
            checked.append(i)
            step(i, loss)

        net.update_layer = update_layer
        for _ in range(2):
            net.train_step(x, y, torch.Generator().manual_seed(2))
        assert checked == [0, 1, 2, 0, 1, 2]
        states.append(net.state_dict())
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key
