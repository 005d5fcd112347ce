"""Test configuration: one torch thread (small nets run ~10x faster on 2 cores),
and the registry of the estimators that every per-concern test runs over
(``ESTIMATORS``, ``each_estimator``, the ``spec`` fixture)."""

import functools
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skff import (
    FFClassifier,
    FFConvClassifier,
    FFLanguageModel,
    FFRecurrentClassifier,
    FFTransformer,
)


def pytest_configure(config):
    torch.set_num_threads(1)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.fixture
def training_spy(monkeypatch):
    """``spy(core_class)`` records, during that core's training steps, what
    each layer's loss receives (``losses``: ``(g_pos, g_neg)``, detached) and
    the wrong labels drawn (``negatives``: ``(y, y_neg)``)."""
    import skff.core.local_training as layers_module

    def spy(core_class):
        record = {"losses": [], "negatives": []}
        loss, draw = layers_module.ff_loss, core_class.negative_labels

        def spy_loss(g_pos, g_neg, **kw):
            record["losses"].append((g_pos.detach(), g_neg.detach()))
            return loss(g_pos, g_neg, **kw)

        def spy_draw(self, y, *args, **kw):
            y_neg = draw(self, y, *args, **kw)
            record["negatives"].append((y, y_neg))
            return y_neg

        monkeypatch.setattr(layers_module, "ff_loss", spy_loss)
        monkeypatch.setattr(core_class, "negative_labels", spy_draw)
        return record

    return spy


@pytest.fixture
def step_rows(monkeypatch):
    """``step_rows(core_class)`` returns a list that records the number of
    rows of every training step of that core class."""

    def spy(core_class):
        rows, step = [], core_class.train_step

        def train_step(self, x, *args, **kwargs):
            rows.append(len(x))
            return step(self, x, *args, **kwargs)

        monkeypatch.setattr(core_class, "train_step", train_step)
        return rows

    return spy


@pytest.fixture(scope="session")
def digits_split():
    """scikit-learn's digits scaled to [0, 1], 70/30 stratified, random_state=0."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float64)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def small_digits(digits_split):
    """A small, fast subset: 300 training and 200 test digits."""
    X_tr, X_te, y_tr, y_te = digits_split
    return X_tr[:300], X_te[:200], y_tr[:300], y_te[:200]


# -- the estimators: one registry for every test of a concern they share -----------
DOCS = [
    "the cat sat on the mat and the cat ate the rat. " * 6,
    "a dog sat on a log and the dog ate a frog. " * 6,
]
PROMPTS = [*DOCS, "the cat sa"]


@functools.cache
def _digits():
    """300 training and 200 test digits (``small_digits``), read-only."""
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X / 16.0, y, test_size=0.3, stratify=y, random_state=0)
    X_tr, X_te, y_tr, _ = split
    arrays = X_tr[:300], y_tr[:300], X_te[:200]
    for a in arrays:
        a.setflags(write=False)
    return arrays


@dataclass(frozen=True)
class Estimator:
    """One estimator of skff: its fast settings, its data, what it supports.

    ``supports`` names what a concern may need: ``"y"`` (supervised: fit
    takes labels), ``"predict"``, ``"predict_proba"``, ``"decision_function"``,
    ``"transform"``, ``"score_samples"``, ``"partial_fit"``,
    ``"sample_weight"``, ``"class_weight"``, ``"classes"`` (``classes_``),
    ``"calibrate"``, ``"n_negatives"``, ``"readout"``, ``"layer_sizes"``
    (``hidden_layer_sizes``: a stack of dense layers), ``"arrays"`` (X is a
    2-D array) or ``"text"`` (X is an iterable of strings)."""

    name: str
    cls: type
    fast: dict
    supports: frozenset
    # the settings that learn the data well enough for accuracy assertions
    accurate: dict = field(default_factory=dict)

    def __str__(self):
        return self.name

    def settings(self, accurate=False, **overrides):
        """The fast settings on CPU (and ``accurate``'s), with ``overrides``:
        for the estimator-specific files, which set random_state themselves."""
        return {
            "device": "cpu",
            **self.fast,
            **(self.accurate if accurate else {}),
            **overrides,
        }

    def make(self, **params):
        """An unfitted estimator: the fast settings, CPU, random_state=0."""
        return self.cls(**{"random_state": 0, **self.settings(**params)})

    def data(self):
        """``(X, y, X_test)``: digits (y None for the transformer), or
        documents and prompts for the language model."""
        if "text" in self.supports:
            return DOCS, None, PROMPTS
        X, y, X_test = _digits()
        return X, (y if "y" in self.supports else None), X_test

    def fit(self, est=None, X=None, y=None, **kwargs):
        """``est`` (default: ``make()``) fitted on ``X, y`` (default: data())."""
        est = self.make() if est is None else est
        if X is None:
            X, y, _ = self.data()
        return est.fit(X, y, **kwargs) if y is not None else est.fit(X, **kwargs)

    def partial_fit(self, est, X=None, y=None):
        if X is None:
            X, y, _ = self.data()
        if y is None:
            return est.partial_fit(X)
        return est.partial_fit(X, y, classes=np.unique(_digits()[1]))

    def outputs(self, est, X=None):
        """What the estimator computes from its weights: class probabilities,
        the transformed features, or each document's log-likelihood."""
        X = self.data()[2] if X is None else X
        if "text" in self.supports:
            return est.score_samples(X)
        if "predict_proba" in self.supports:
            return est.predict_proba(X)
        return est.transform(X)

    def bad_fit_data(self):
        """``(X, y)`` that fit refuses: one class, a NaN, or too short a
        document (and, for the arrays, another number of features)."""
        if "text" in self.supports:
            return ["ab"], None
        if "y" in self.supports:
            return np.zeros((20, 10)), np.zeros(20)
        return np.full((20, 10), np.nan), None


_CLASSIFIER = frozenset(
    {
        "y",
        "arrays",
        "predict",
        "predict_proba",
        "decision_function",
        "partial_fit",
        "sample_weight",
        "class_weight",
        "classes",
        "calibrate",
        "n_negatives",
        "readout",
        "layer_sizes",
    }
)
ESTIMATORS = [
    Estimator(
        "FFClassifier",
        FFClassifier,
        dict(n_layers=2, hidden_size=16, max_iter=3, batch_size=50),
        _CLASSIFIER,
        accurate=dict(n_layers=1, hidden_size=64, max_iter=10),
    ),
    Estimator(
        "FFConvClassifier",
        FFConvClassifier,
        dict(input_shape=(1, 8, 8), channels=(10, 10), max_iter=3, batch_size=50),
        _CLASSIFIER - {"layer_sizes"},  # blocks of channels
        accurate=dict(channels=(12, 12), learning_rate_init=0.01, max_iter=10),
    ),
    Estimator(
        "FFRecurrentClassifier",
        FFRecurrentClassifier,
        dict(
            n_layers=2,
            hidden_size=16,
            n_iterations=3,
            goodness_window=(2, 3),
            max_iter=3,
            batch_size=50,
        ),
        _CLASSIFIER,
        accurate=dict(hidden_size=64, n_iterations=4, max_iter=20),
    ),
    Estimator(
        "FFTransformer",
        FFTransformer,
        dict(n_layers=2, hidden_size=16, max_iter=3, batch_size=50),
        frozenset(
            {"arrays", "transform", "score_samples", "partial_fit", "layer_sizes"}
        ),
    ),
    Estimator(
        "FFLanguageModel",
        FFLanguageModel,
        dict(context_size=4, hidden_size=16, max_iter=2, batch_size=64),
        frozenset(
            {
                "text",
                "predict",
                "predict_proba",
                "score_samples",
                "classes",
                "calibrate",
                "n_negatives",
                "readout",
                "layer_sizes",
            }
        ),
        accurate=dict(hidden_size=64, max_iter=4),
    ),
]
SPECS = {spec.name: spec for spec in ESTIMATORS}


def each_estimator(*needs, xfail=None, argname="spec"):
    """``pytest.mark.parametrize`` over the registry's estimators that support
    every one of ``needs`` (ids: their names). ``xfail`` maps an estimator's
    name to the reason its case fails today (strict: a fix flips it).

    A test parametrized so must not use a module-scoped fixture of ``spec``
    (pytest caches those by the parameter's index, not its estimator)."""
    xfail = xfail or {}
    params = [
        pytest.param(
            spec,
            id=spec.name,
            marks=(
                [pytest.mark.xfail(strict=True, reason=xfail[spec.name])]
                if spec.name in xfail
                else []
            ),
        )
        for spec in ESTIMATORS
        if set(needs) <= spec.supports
    ]
    return pytest.mark.parametrize(argname, params)


@pytest.fixture(scope="module", params=ESTIMATORS, ids=str)
def spec(request):
    """Each estimator of the registry in turn (a module-scoped parameter, so
    that module-scoped fixtures can fit each one once)."""
    return request.param
