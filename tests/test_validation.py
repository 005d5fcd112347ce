"""Clear, scikit-learn-style errors on bad input and bad parameters."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skff import FFClassifier, resolve_device

FAST = dict(n_layers=1, hidden_size=16, max_iter=2, batch_size=20, device="cpu")
rng = np.random.RandomState(0)
X = rng.rand(40, 5)
y = np.arange(40) % 2


@pytest.mark.parametrize(
    "X_bad, match",
    [
        (np.where(np.eye(40, 5) > 0, np.nan, X), "NaN"),
        (np.where(np.eye(40, 5) > 0, np.inf, X), "infinity"),
        (np.empty((0, 5)), "0 sample"),
        (np.array([["a"] * 5] * 40), "could not convert|numeric"),
        (X[:, :, None], "3|dim"),
    ],
)
def test_bad_X(X_bad, match):
    with pytest.raises(ValueError, match=match):
        FFClassifier(**FAST).fit(X_bad, y[: len(X_bad)])


def test_one_class():
    with pytest.raises(ValueError, match="only one class"):
        FFClassifier(**FAST).fit(X, np.zeros(40))


def test_continuous_target():
    with pytest.raises(ValueError, match="Unknown label type"):
        FFClassifier(**FAST).fit(X, rng.rand(40))


def test_wrong_n_features_at_predict():
    clf = FFClassifier(**FAST, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="5 features"):
        clf.predict(X[:, :3])


def test_unfitted():
    with pytest.raises(NotFittedError):
        FFClassifier().predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_layers=0), "n_layers"),
        (dict(hidden_size=-3), "hidden_size"),
        (dict(batch_size=0), "batch_size"),
        (dict(learning_rate_init=0.0), "learning_rate_init"),
        (dict(loss="hinge"), "loss"),
        (dict(readout="vote"), "readout"),
        (dict(negatives="random"), "negatives"),
        (dict(validation_fraction=1.5), "validation_fraction"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        FFClassifier(**{**FAST, **params}).fit(X, y)


@pytest.mark.parametrize("device", ["gpu", "tpu:0", "cuda:x", ""])
def test_unknown_device(device):
    with pytest.raises(ValueError, match="device"):
        FFClassifier(**{**FAST, "device": device}).fit(X, y)


def test_unavailable_cuda(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        FFClassifier(**{**FAST, "device": "cuda:1"}).fit(X, y)
    assert resolve_device("auto").type in ("cpu", "mps")


def test_overlay_needs_enough_features():
    with pytest.raises(ValueError, match="overlay"):
        FFClassifier(**FAST, label_injection="overlay").fit(X[:, :1], y)


def test_sparse_is_densified_per_batch():
    Xs = sp.random(40, 5, density=0.5, random_state=0, format="csr")
    clf = FFClassifier(**FAST, random_state=0).fit(Xs, y)
    assert clf.predict(Xs).shape == (40,)
