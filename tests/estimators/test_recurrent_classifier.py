"""FFRecurrentClassifier: accuracy on digits, its readouts and goodness
trajectory, and its fitting modes (the recurrent core is tested in
tests/core/test_recurrent_core.py; the concerns shared by every estimator in
tests/estimators/)."""

import copy

import numpy as np
import pytest
import torch
from conftest import SPECS
from sklearn.base import clone

from skff import FFRecurrentClassifier

# the registry's settings that learn digits
FAST = SPECS["FFRecurrentClassifier"].settings(accurate=True)


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
        dict(loss="logistic", label_strength=2.0, threshold=1.0, max_iter=40),
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
    # the window mean of the trajectory is the goodness readout's score,
    # times the readout's temperature (cross-fitted: calibrate="auto"; and
    # one set by hand, so that the factor is exercised whatever was fitted)
    assert 0 < clf.temperatures_["goodness"] <= 1
    scores = np.stack(
        [clf.goodness_trajectory(X_te, np.full(len(X_te), c)) for c in range(10)],
        axis=1,
    )[:, :, 2:4].mean(axis=2)
    for t in (clf.temperatures_["goodness"], 0.3):
        model = copy.deepcopy(clf)
        model.temperatures_ = {**clf.temperatures_, "goodness": t}
        np.testing.assert_allclose(
            model.predict_log_proba(X_te),
            torch.log_softmax(torch.as_tensor(4.0 * t * scores), dim=1).numpy(),
            rtol=1e-5,
            atol=1e-5,
        )
    assert clf.goodness_trajectory(X_te).shape == traj.shape  # neutral label
    with pytest.raises(ValueError, match="not in classes_"):
        clf.goodness_trajectory(X_te, y_te + 20)
    with pytest.raises(ValueError, match="one label per sample"):
        clf.goodness_trajectory(X_te, y_te[:5])


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


@pytest.mark.parametrize("dataset", ["circles", "iris"])
def test_the_length_of_a_row_is_not_thrown_away(dataset):
    """Normalizing each row erases its length, which is all that separates
    concentric circles; the network reads its log-ratio to the training RMS
    (before: 0.43 on circles and 0.83 on iris in 5-fold CV)."""
    from sklearn.datasets import load_iris, make_circles
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if dataset == "circles":
        X, y = make_circles(500, noise=0.1, factor=0.5, random_state=0)
    else:
        X, y = load_iris(return_X_y=True)
    model = make_pipeline(
        StandardScaler(), FFRecurrentClassifier(max_iter=20, random_state=0)
    )
    assert cross_val_score(model, X, y, cv=3).mean() > 0.93


def test_input_scale_is_fitted_and_kept(small_digits):
    X_tr, _, y_tr, _ = small_digits
    clf = FFRecurrentClassifier(**FAST, warm_start=True, random_state=0)
    clf.fit(X_tr, y_tr)
    np.testing.assert_allclose(clf.input_scale_, np.sqrt(np.mean(X_tr**2)), rtol=1e-6)
    assert clf.core_.input_scale == clf.input_scale_
    clf.fit(X_tr * 2, y_tr)  # a warm start keeps the network and its scale
    assert clf.core_.input_scale == clf.input_scale_
