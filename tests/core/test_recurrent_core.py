"""RecurrentFFNet, the recurrent core: registration and rebuilding from its
configuration, layer-local learning, the batched per-label readout and the
pairing of negatives with their positives."""

import dataclasses

import torch

from skff.core import CORES, RecurrentFFNet, goodness, rms_normalize


def _core(objective=None, **dynamics):
    dynamics = {"n_iterations": 5, "goodness_window": (2, 4), **dynamics}
    objective = {"loss": "logistic", "negatives": "uniform", **(objective or {})}
    net = RecurrentFFNet(
        12, 4, [16, 8, 8], objective=objective, dynamics=dynamics, seed=1
    )
    net.configure_training(learning_rate=0.05)
    return net


def test_core_is_registered_and_rebuilds_from_config():
    net = _core({"label_strength": 2.0}, damping=0.5)
    assert CORES["RecurrentFFNet"] is RecurrentFFNet
    copy = RecurrentFFNet(**net.get_config())
    copy.load_state_dict(net.state_dict())
    x = torch.rand(5, 12)
    torch.testing.assert_close(copy.label_logits(x), net.label_logits(x))
    # the initial weights come from the seed, not from the global RNG
    state = torch.get_rng_state()
    again = RecurrentFFNet(**net.get_config())
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(again.layers[1].weight_down, _core().layers[1].weight_down)


def test_each_layer_owns_its_weights_and_learns_locally():
    """One optimizer step per layer per batch, from that layer's own loss: its
    bottom-up and top-down weights get exactly one gradient, and the states it
    reads carry no autograd history."""
    net = _core()
    seen = []
    for i, layer in enumerate(net.layers):
        assert {n for n, _ in layer.named_parameters()} == {
            "weight_up",
            "weight_down",
            "bias",
        }
        for name in ("weight_up", "weight_down"):
            getattr(layer, name).register_hook(
                lambda g, i=i, name=name: seen.append((i, name))
            )
    x, y = torch.rand(32, 12), torch.randint(0, 4, (32,))
    losses = net.train_step(x, y, torch.Generator().manual_seed(0))
    assert losses.shape == (4,) and torch.all(torch.isfinite(losses))
    assert sorted(seen) == [
        (i, n) for i in range(3) for n in ("weight_down", "weight_up")
    ]
    # the top layer's top-down weights hold the label embedding
    assert net.layers[-1].weight_down.shape == (8, 4)
    # a step of layer 1 reads detached states of layers 0 and 2
    states = net._bottom_up_pass(net.layers[0].bottom_up(x))
    new = net._iterate(net.layers[0].bottom_up(x), net._label_top(y), states)
    grads = torch.autograd.grad(
        new[1].sum(),
        list(net.layers[0].parameters()) + list(net.layers[2].parameters()),
        allow_unused=True,
    )
    assert all(g is None for g in grads)


def test_label_logits_match_one_run_per_label():
    """Scoring batches the labels (rows repeated n_classes times); it must equal
    running the iterations once per label, and the window mean of the goodness
    trajectory."""
    net = _core()
    x = torch.rand(7, 12)
    fast = net.label_logits(x)
    traj = [net.goodness_trajectory(x, torch.full((7,), c)) for c in range(4)]
    slow = torch.stack([t[:, 2:5].mean(dim=1) for t in traj], dim=1)
    torch.testing.assert_close(fast, slow)  # logistic loss: scores unscaled
    net.set_objective(dataclasses.replace(net.objective, loss="symba"))
    torch.testing.assert_close(net.label_logits(x), net.objective.symba_scale * slow)
    # by hand for one label: bottom-up pass, then damped synchronous updates
    c = 3
    xs, hs = rms_normalize(x), []
    for i, layer in enumerate(net.layers):
        below = xs if i == 0 else rms_normalize(hs[-1])
        hs.append(torch.relu(layer.bottom_up(below)))
    gs = [sum(goodness(h) for h in hs)]
    for _ in range(5):
        new = []
        for i, layer in enumerate(net.layers):
            below = xs if i == 0 else rms_normalize(hs[i - 1])
            above = (
                net.objective.label_strength * torch.eye(4)[[c] * 7]
                if i == 2
                else rms_normalize(hs[i + 1])
            )
            computed = torch.relu(layer.bottom_up(below) + layer.top_down(above))
            new.append(0.3 * hs[i] + 0.7 * computed)
        hs = new
        gs.append(sum(goodness(h) for h in hs))
    torch.testing.assert_close(torch.stack(gs, dim=1), traj[c])


def test_negatives_never_carry_the_true_label(training_spy):
    net = _core({"negatives": "hard", "n_negatives": 2})
    drawn = training_spy(RecurrentFFNet)["negatives"]
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        net.train_step(torch.rand(64, 12), torch.randint(0, 4, (64,), generator=g), g)
    assert len(drawn) == 5
    for y, neg in drawn:
        # one block of wrong labels per negative, two distinct ones per sample
        blocks = neg.view(2, len(y))
        assert not torch.any(blocks == y) and torch.all(blocks[0] != blocks[1])


def test_negatives_are_paired_with_their_positives(training_spy):
    """Each layer's loss sees, for every window step and sample, the goodness
    under the true label and, in column j, under that sample's j-th wrong
    label (the rows of all negative blocks line up with the positives)."""
    record = training_spy(RecurrentFFNet)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(7, 12, generator=g), torch.randint(0, 4, (7,), generator=g)
    net = _core({"loss": "symba", "negatives": "hard", "n_negatives": 3})

    def window_goodness(labels):
        """Per layer, the goodness at window steps 2..4 (step-major rows)."""
        x_in = net._input_part(x)
        out = [[] for _ in net.layers]

        def keep(t, hs):
            if t >= 2:
                for i, h in enumerate(hs):
                    out[i].append(goodness(h))

        net._run(x_in, net._label_top(labels), net._bottom_up_pass(x_in), 4, keep)
        return [torch.cat(o) for o in out]

    with torch.no_grad():
        per_label = [window_goodness(torch.full((7,), c)) for c in range(4)]
    net.train_step(x, y, g)
    # the same labels at every step
    y_neg = record["negatives"][0][1].view(3, 7).repeat(1, 3)
    rows = torch.arange(21)
    for i, (g_pos, g_neg) in enumerate(record["losses"]):
        assert g_neg.shape == (21, 3)
        stacked = torch.stack([p[i] for p in per_label], dim=1)  # (21, 4)
        torch.testing.assert_close(g_pos, stacked[rows, y.repeat(3)])
        for j in range(3):
            torch.testing.assert_close(g_neg[:, j], stacked[rows, y_neg[j]])
