"""FFRecurrentClassifier: the scikit-learn contract, accuracy on digits, the
recurrent core's guarantees (locality, batched labels, the goodness window),
persistence and errors."""

import dataclasses
import io
import pickle
from unittest import mock

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skff._recurrent import FFRecurrentClassifier
from skff.core import CORES, RecurrentFFNet, goodness, rms_normalize

# fast settings: small layers, few iterations, few epochs
CHECKS = dict(
    n_layers=2,
    hidden_size=16,
    n_iterations=2,
    goodness_window=(1, 2),
    learning_rate="constant",
    max_iter=10,
    batch_size=64,
    device="cpu",
)
FAST = dict(
    n_layers=2,
    hidden_size=64,
    n_iterations=4,
    goodness_window=(2, 3),
    max_iter=20,
    batch_size=50,
    device="cpu",
)


@parametrize_with_checks([FFRecurrentClassifier(**CHECKS)], xfail_strict=True)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def fitted(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    return FFRecurrentClassifier(**FAST, random_state=0).fit(X_tr, y_tr), X_te


# -- accuracy ------------------------------------------------------------------------
@pytest.mark.slow
def test_digits_default_accuracy(digits_split):
    """Acceptance: the default FFRecurrentClassifier reaches >= 97% on digits."""
    X_tr, X_te, y_tr, y_te = digits_split
    clf = FFRecurrentClassifier(random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.97
    assert clf.n_iter_ == clf.max_iter == len(clf.loss_curve_)
    first, last = np.array(clf.loss_curve_[0]), np.array(clf.loss_curve_[-1])
    assert np.all(last[:-1] < 0.5 * first[:-1])


def test_learns_small_digits(fitted, small_digits):
    clf, X_te = fitted
    _, _, _, y_te = small_digits
    assert clf.score(X_te, y_te) > 0.8
    for readout in ("softmax", "both"):
        assert clf.set_params(readout=readout).score(X_te, y_te) > 0.8
    clf.set_params(readout="goodness")


@pytest.mark.parametrize(
    "params",
    [
        dict(negatives="uniform", readout="both"),
        dict(loss="logistic", label_strength=5.0, threshold=1.0, max_iter=40),
        dict(peer_normalization=0.03, damping=0.0, learning_rate="constant"),
        dict(goodness="sum", symba_scale=0.1),
        dict(normalize_input=False),
        dict(n_layers=1, goodness_window=(0, 2)),
        dict(n_negatives=1),
    ],
)
def test_variants_learn(small_digits, params):
    """Every loss, goodness, negative strategy, readout and iteration setting
    learns digits from 300 samples (chance is 10%)."""
    X_tr, X_te, y_tr, y_te = small_digits
    clf = FFRecurrentClassifier(**{**FAST, **params}, random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.75


def test_predict_proba_is_a_distribution(fitted):
    clf, X_te = fitted
    for readout in ("goodness", "softmax", "both"):
        clf.set_params(readout=readout)
        proba = clf.predict_proba(X_te)
        assert proba.shape == (len(X_te), 10)
        assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
        np.testing.assert_array_equal(
            clf.predict(X_te), clf.classes_[proba.argmax(axis=1)]
        )
    clf.set_params(readout="goodness")


# -- the core ------------------------------------------------------------------------
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
    torch.testing.assert_close(
        net.label_logits(x), net.objective.symba_scale * slow
    )
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


def test_iterations_after_the_window_change_nothing(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    a = FFRecurrentClassifier(**{**FAST, "max_iter": 2}, random_state=0)
    b = clone(a).set_params(n_iterations=9)
    a.fit(X_tr, y_tr)
    b.fit(X_tr, y_tr)
    for readout in ("goodness", "softmax"):
        np.testing.assert_array_equal(
            a.set_params(readout=readout).predict_proba(X_te),
            b.set_params(readout=readout).predict_proba(X_te),
        )
    assert b.goodness_trajectory(X_te[:3]).shape == (3, 10)


def test_goodness_trajectory(fitted, small_digits):
    clf, X_te = fitted
    _, _, _, y_te = small_digits
    traj = clf.goodness_trajectory(X_te, y_te)
    assert traj.shape == (len(X_te), FAST["n_iterations"] + 1)
    assert np.all(traj >= 0)
    # the window mean of the trajectory is the goodness readout's score
    scores = np.stack(
        [clf.goodness_trajectory(X_te, np.full(len(X_te), c)) for c in range(10)],
        axis=1,
    )[:, :, 2:4].mean(axis=2)
    np.testing.assert_allclose(
        clf.predict_log_proba(X_te),
        torch.log_softmax(torch.as_tensor(4.0 * scores), dim=1).numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    assert clf.goodness_trajectory(X_te).shape == traj.shape  # neutral label
    with pytest.raises(ValueError, match="not in classes_"):
        clf.goodness_trajectory(X_te, y_te + 20)
    with pytest.raises(ValueError, match="one label per sample"):
        clf.goodness_trajectory(X_te, y_te[:5])


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
    from skff.core import goodness

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


# -- fitting modes -------------------------------------------------------------------
def test_refit_is_bit_identical(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    params = {**FAST, "max_iter": 3}
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    a = FFRecurrentClassifier(**params, random_state=3).fit(X_tr, y_tr)
    # no global random number generator is touched
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    b = FFRecurrentClassifier(**params, random_state=3).fit(X_tr, y_tr)
    np.testing.assert_array_equal(a.predict_proba(X_te), b.predict_proba(X_te))
    assert a.loss_curve_ == b.loss_curve_
    c = FFRecurrentClassifier(**params, random_state=4).fit(X_tr, y_tr)
    assert not np.array_equal(a.predict_proba(X_te), c.predict_proba(X_te))


def test_partial_fit_and_warm_start(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = FFRecurrentClassifier(**FAST, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X_tr, y_tr)
    for _ in range(10):
        clf.partial_fit(X_tr, y_tr, classes=np.arange(10))
    assert clf.n_iter_ == 10 and len(clf.loss_curve_) == 10
    assert clf.score(X_te, y_te) > 0.6
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X_tr, y_tr + 20)

    warm = FFRecurrentClassifier(**{**FAST, "max_iter": 2}, warm_start=True)
    warm.fit(X_tr, y_tr)
    core = warm.core_
    # the iteration settings may change between warm starts, the sizes may not
    warm.set_params(n_iterations=5, damping=0.5, goodness_window=(3, 5))
    warm.fit(X_tr, y_tr)
    assert warm.core_ is core and len(warm.loss_curve_) == 4
    assert core.get_config()["dynamics"]["goodness_window"] == [3, 5]
    warm.set_params(hidden_size=16)
    with pytest.raises(ValueError, match="hidden_size changed"):
        warm.fit(X_tr, y_tr)


def test_early_stopping(small_digits):
    X_tr, _, y_tr, _ = small_digits
    clf = FFRecurrentClassifier(
        **{**FAST, "max_iter": 100},
        early_stopping=True,
        n_iter_no_change=2,
        random_state=0,
    ).fit(X_tr, y_tr)
    assert clf.n_iter_ < 100 and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)


# -- scikit-learn tooling ------------------------------------------------------------
def test_pipeline_grid_search_and_clone(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    pipe = make_pipeline(
        StandardScaler(), FFRecurrentClassifier(**FAST, random_state=0)
    )
    assert pipe.fit(X_tr * 16, y_tr).score(X_te * 16, y_te) > 0.7

    params = {"goodness_window": [(1, 2), (2, 3)]}
    base = FFRecurrentClassifier(**{**FAST, "max_iter": 3}, random_state=0)
    grid = GridSearchCV(base, params, cv=2, n_jobs=2).fit(X_tr, y_tr)
    assert len(grid.cv_results_["params"]) == 2
    assert isinstance(grid.best_estimator_, FFRecurrentClassifier)
    seq = GridSearchCV(base, params, cv=2, n_jobs=1).fit(X_tr, y_tr)
    np.testing.assert_array_equal(
        grid.cv_results_["mean_test_score"], seq.cv_results_["mean_test_score"]
    )

    fitted = grid.best_estimator_
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "core_") and not hasattr(copy, "classes_")


# -- persistence ---------------------------------------------------------------------
def test_joblib_round_trip(fitted, tmp_path):
    clf, X_te = fitted
    path = tmp_path / "rff.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    assert type(loaded.core_) is RecurrentFFNet
    np.testing.assert_array_equal(loaded.predict_proba(X_te), clf.predict_proba(X_te))
    np.testing.assert_array_equal(
        loaded.goodness_trajectory(X_te), clf.goodness_trajectory(X_te)
    )
    assert loaded.get_params() == clf.get_params()
    assert loaded.loss_curve_ == clf.loss_curve_


def test_cuda_trained_pickle_loads_on_cpu(fitted):
    """Tag every storage as cuda:0 while pickling; loading on this CPU-only
    process must still work."""
    clf, X_te = fitted
    buf = io.BytesIO()
    with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"):
        pickle.dump(clf, buf)
    with mock.patch("torch.cuda.is_available", return_value=False):
        loaded = pickle.loads(buf.getvalue())
    np.testing.assert_array_equal(loaded.predict_proba(X_te), clf.predict_proba(X_te))
    assert loaded._core_device().type == "cpu"
    state = clf.__getstate__()
    state["device_"], state["device"] = "cuda:0", "cuda"
    clone_ = FFRecurrentClassifier.__new__(FFRecurrentClassifier)
    clone_.__setstate__(state)
    np.testing.assert_array_equal(clone_.predict(X_te), clf.predict(X_te))


# -- errors --------------------------------------------------------------------------
rng = np.random.RandomState(0)
X_small = rng.rand(40, 5)
y_small = np.arange(40) % 2
TINY = dict(n_layers=1, hidden_size=8, max_iter=1, batch_size=20, device="cpu")


@pytest.mark.parametrize(
    "X_bad, match",
    [
        (np.where(np.eye(40, 5) > 0, np.nan, X_small), "NaN"),
        (np.where(np.eye(40, 5) > 0, np.inf, X_small), "infinity"),
        (np.empty((0, 5)), "0 sample"),
    ],
)
def test_bad_X(X_bad, match):
    with pytest.raises(ValueError, match=match):
        FFRecurrentClassifier(**TINY).fit(X_bad, y_small[: len(X_bad)])


def test_bad_input_after_fit():
    clf = FFRecurrentClassifier(**TINY, random_state=0)
    with pytest.raises(NotFittedError):
        clf.predict(X_small)
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X_small, np.zeros(40))
    clf.fit(X_small, y_small)
    with pytest.raises(ValueError, match="5 features"):
        clf.predict(X_small[:, :3])
    with pytest.raises(ValueError, match="5 features"):
        clf.goodness_trajectory(X_small[:, :3])


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_layers=0), "n_layers"),
        (dict(n_iterations=0), "n_iterations"),
        (dict(damping=1.0), "damping"),
        (dict(damping=-0.1), "damping"),
        (dict(goodness_window=3), "goodness_window"),
        (dict(loss="hinge"), "loss"),
        (dict(readout="vote"), "readout"),
        (dict(negatives="random"), "negatives"),
        (dict(label_strength=0.0), "label_strength"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        FFRecurrentClassifier(**{**TINY, **params}).fit(X_small, y_small)


@pytest.mark.parametrize(
    "window", [(3, 2), (-1, 2), (0, 9), (1, 2, 3), (1.0, 2), (True, 1), ("a", "b")]
)
def test_bad_goodness_window(window):
    clf = FFRecurrentClassifier(**TINY, n_iterations=8, goodness_window=window)
    with pytest.raises(ValueError, match="goodness_window"):
        clf.fit(X_small, y_small)
    assert not hasattr(clf, "core_")
