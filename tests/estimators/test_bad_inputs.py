"""Bad input and bad parameters, for every estimator: each one gets a clean,
specific error, or a documented, correct result (finite probabilities that sum
to 1).

The two classifiers share one battery of arrays; the language model, whose
input is an iterable of strings, gets the corresponding bad documents."""

import functools

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import ESTIMATORS, SPECS, each_estimator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skff import (
    FFClassifier,
    FFConvClassifier,
    FFLanguageModel,
    FFRecurrentClassifier,
    resolve_device,
)

# the registry's settings, smaller still: a fit here only has to start
SMALL = dict(max_iter=2, batch_size=16)
OVERRIDES = {
    FFClassifier: dict(n_layers=1, hidden_size=8),
    FFRecurrentClassifier: dict(n_layers=1, hidden_size=8, goodness_window=(1, 2)),
    FFLanguageModel: dict(context_size=3, max_iter=1),
}
CLASSIFIERS = [FFClassifier, FFRecurrentClassifier, FFConvClassifier]
# the estimators whose network is a stack of n_layers dense layers
LAYERED = [FFClassifier, FFRecurrentClassifier, FFLanguageModel]
rng = np.random.RandomState(0)
X = rng.rand(40, 5)
y = np.arange(40) % 3
TEXT = ["the cat sat on the mat. " * 3, "a dog sat on a log. " * 3]


def _make(cls, **params):
    spec = SPECS[cls.__name__]
    if cls is FFConvClassifier and "input_shape" not in params:
        # every row a one-channel signal, whatever its number of columns
        params = {"input_shape": None, "channels": (6,), **params}
    return spec.make(**{**SMALL, **OVERRIDES.get(cls, {}), **params})


def _fit(cls, **params):
    """A fitted estimator on the valid data of its kind."""
    est = _make(cls, **params)
    return est.fit(TEXT) if cls is FFLanguageModel else est.fit(X, y)


def _ok(result):
    """A correct result: finite probabilities summing to one."""
    proba = np.asarray(result)
    assert proba.ndim == 2 and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)


# -- the classifiers: a battery of bad arrays --------------------------------------
def _fit_predict(Xf, yf=y, Xp=None, **params):
    def run(cls):
        est = _make(cls, **params).fit(Xf, yf)
        return est.predict_proba(Xf if Xp is None else Xp)

    return run


def _predict(Xp):
    def run(cls):
        return _make(cls).fit(X, y).predict_proba(Xp)

    return run


def _nan(a):
    a = a.copy()
    a[3, 2] = np.nan
    return a


def _memmap(tmp="/tmp/skff-bad-inputs-memmap.npy"):
    np.save(tmp, X)
    return np.load(tmp, mmap_mode="r")


def _readonly():
    a = X.copy()
    a.setflags(write=False)
    return a


def _df(**cols):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(cols)


# (name, action, expected): expected is None for a correct result, else
# (exception type, message pattern)
CASES = [
    ("NaN in X", _fit_predict(_nan(X)), (ValueError, "NaN")),
    (
        "NaN diagonal in X",
        _fit_predict(np.where(np.eye(40, 5) > 0, np.nan, X)),
        (ValueError, "NaN"),
    ),
    (
        "+inf in X",
        _fit_predict(np.where(X > 0.95, np.inf, X)),
        (ValueError, "infinity"),
    ),
    (
        "-inf in X",
        _fit_predict(np.where(X > 0.95, -np.inf, X)),
        (ValueError, "infinity"),
    ),
    ("huge values", _fit_predict(X * 1e30), (ValueError, "Scale the features")),
    ("huge values at predict", _predict(X * 1e30), (ValueError, "Scale the features")),
    ("huge negative values", _fit_predict(-X * 1e30), (ValueError, "Scale the")),
    ("NaN at predict", _predict(_nan(X)), (ValueError, "NaN")),
    ("empty X", _fit_predict(np.empty((0, 5)), y[:0]), (ValueError, "0 sample")),
    ("empty X at predict", _predict(np.empty((0, 5))), (ValueError, "0 sample")),
    ("one sample", _fit_predict(X[:1], y[:1]), (ValueError, "only one class")),
    ("one class", _fit_predict(X, np.zeros(40)), (ValueError, "only one class")),
    (
        "ragged list",
        _fit_predict([[1.0, 2.0], [3.0]], [0, 1]),
        (ValueError, "inhomogeneous"),
    ),
    (
        "strings in X",
        _fit_predict(np.array([["a"] * 5] * 40)),
        (ValueError, "could not convert"),
    ),
    (
        "objects in X",
        _fit_predict(np.array([[object()] * 5] * 40)),
        (TypeError, "float"),
    ),
    ("complex X", _fit_predict(X + 1j), (ValueError, "Complex")),
    ("3-D X", _fit_predict(X[:, :, None]), (ValueError, "dim")),
    ("1-D X", _fit_predict(X[:, 0]), (ValueError, "2D array")),
    ("wrong n_features at predict", _predict(X[:, :3]), (ValueError, "5 features")),
    ("y with NaN", _fit_predict(X, np.where(y == 0, np.nan, y)), (ValueError, "NaN")),
    (
        "non-integral float y",
        _fit_predict(X, y + 0.5),
        (ValueError, "Unknown label type"),
    ),
    (
        "continuous y",
        _fit_predict(X, rng.rand(40)),
        (ValueError, "Unknown label type"),
    ),
    ("mismatched lengths", _fit_predict(X, y[:-1]), (ValueError, "inconsistent")),
    ("2-D y", _fit_predict(X, np.c_[y, y]), (ValueError, "y")),
    ("integral float y", _fit_predict(X, y.astype(float)), None),
    ("string y", _fit_predict(X, np.array(["a", "b", "c"])[y]), None),
    ("one sample at predict", _predict(X[:1]), None),
    ("read-only X", _fit_predict(_readonly()), None),
    ("memory-mapped X", _fit_predict(_memmap()), None),
    ("float16 X", _fit_predict(X.astype(np.float16)), None),
    ("int8 X", _fit_predict((X * 10).astype(np.int8)), None),
    ("bool X", _fit_predict(X > 0.5), None),
    ("Fortran-ordered X", _fit_predict(np.asfortranarray(X)), None),
    ("strided X", _fit_predict(np.hstack([X, X])[:, ::2]), None),
    ("list of lists", _fit_predict(X.tolist(), y.tolist()), None),
    *[
        (f"sparse {fmt} matrix", _fit_predict(getattr(sp, f"{fmt}_matrix")(X)), None)
        for fmt in ("csr", "csc", "coo", "bsr", "lil", "dok", "dia")
    ],
    *[
        (f"sparse {fmt} array", _fit_predict(getattr(sp, f"{fmt}_array")(X)), None)
        for fmt in ("csr", "csc", "coo")
    ],
    (
        "sparse with NaN",
        _fit_predict(sp.csr_matrix(np.where(X > 0.9, np.nan, X))),
        (ValueError, "NaN"),
    ),
    (
        "DataFrame, numeric and bool",
        lambda cls: _fit_predict(_df(a=X[:, 0], b=X[:, 1] > 0.5))(cls),
        None,
    ),
    (
        "DataFrame with strings",
        lambda cls: _fit_predict(_df(a=X[:, 0], b=["x"] * 40))(cls),
        (ValueError, "convert"),
    ),
]


def test_battery_size():
    assert len(CASES) >= 30


@pytest.mark.parametrize("cls", CLASSIFIERS)
@pytest.mark.parametrize("name, action, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input(cls, name, action, expected):
    if expected is None:
        _ok(action(cls))
    else:
        err, match = expected
        with pytest.raises(err, match=match):
            action(cls)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_sparse_is_densified_per_batch(cls):
    Xs = sp.random(40, 5, density=0.5, random_state=0, format="csr")
    clf = _make(cls).fit(Xs, y)
    assert clf.predict(Xs).shape == (40,)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_unseen_label_in_partial_fit(cls):
    est = _make(cls).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"\[7\].*not in classes_"):
        est.partial_fit(X, np.where(y == 0, 7, y))


@pytest.mark.parametrize("cls", CLASSIFIERS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=hnp.arrays(
        dtype=st.sampled_from([np.float64, np.float32, np.float16]),
        shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
        elements=st.one_of(
            st.floats(allow_nan=True, allow_infinity=True, width=16),
            st.sampled_from([0.0, 1.0, -1.0, 1e4]),
        ),
    )
)
def test_generated_arrays(cls, data):
    """Arbitrary small arrays: a clean error, or finite probabilities."""
    labels = np.arange(data.shape[0]) % 2
    try:
        est = _make(cls).fit(data, labels)
        proba = est.predict_proba(data)
    except (ValueError, TypeError) as exc:
        assert str(exc)
        return
    _ok(proba)


def test_overlay_needs_enough_features():
    with pytest.raises(ValueError, match="overlay"):
        _make(FFClassifier, label_injection="overlay").fit(X[:, :1], y)


def test_goodness_trajectory_checks_its_input():
    clf = _make(FFRecurrentClassifier).fit(X, y)
    with pytest.raises(ValueError, match="5 features"):
        clf.goodness_trajectory(X[:, :3])


@pytest.mark.parametrize(
    "window", [(3, 2), (-1, 2), (0, 9), (1, 2, 3), (1.0, 2), (True, 1), ("a", "b")]
)
def test_bad_goodness_window(window):
    clf = _make(FFRecurrentClassifier, n_iterations=8, goodness_window=window)
    with pytest.raises(ValueError, match="goodness_window"):
        clf.fit(X, y)
    assert not hasattr(clf, "core_")


# -- the language model: bad documents and bad calls -------------------------------
LM_CASES = [
    ("bare string", "the cat sat", ValueError, "Iterable over raw text documents"),
    ("bytes", b"the cat sat", ValueError, "Iterable over raw text documents"),
    ("list of bytes", [b"the cat sat on"], TypeError, "document 0 is a bytes"),
    ("None", None, TypeError, "iterable of strings"),
    ("int", 5, TypeError, "iterable of strings"),
    ("numpy numbers", np.arange(5.0), TypeError, "document 0 is a float"),
    ("None item", ["the cat sat", None], TypeError, "document 1 is a NoneType"),
    ("int item", ["the cat sat", 4], TypeError, "document 1 is a int"),
    ("empty list", [], ValueError, "empty"),
    ("empty string", ["the cat sat", ""], ValueError, "Document 1 has 0 characters"),
    ("too short", ["the cat sat", "ab"], ValueError, "Document 1 has 2 characters"),
    ("exactly context", ["abc"], ValueError, "Document 0 has 3 characters"),
]


@pytest.mark.parametrize(
    "name, X_bad, err, match", LM_CASES, ids=[c[0] for c in LM_CASES]
)
def test_language_model_bad_documents(name, X_bad, err, match):
    with pytest.raises(err, match=match):
        _make(FFLanguageModel).fit(X_bad)


def test_language_model_documents_shorter_than_a_longer_context():
    with pytest.raises(ValueError, match="Document 1 has 3 characters"):
        _make(FFLanguageModel, context_size=4).fit(["fine text here", "abc"])


@pytest.fixture(scope="module")
def lm():
    return _fit(FFLanguageModel)


@pytest.mark.parametrize(
    "text",
    [
        "emoji 🐈🐕 here",
        "combining e\u0301\u0308 marks",
        "\x00\x01 control",
        "日本語のテキスト",
    ],
)
def test_language_model_unknown_unicode(lm, text):
    assert np.isfinite(lm.score_samples([text])[0])
    _ok(lm.predict_proba([text]))
    assert lm.generate(text, n_chars=5, random_state=0).startswith(text)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda m: m.predict("a bare string"), ValueError, "Iterable over raw text"),
        (lambda m: m.predict(["ab"]), ValueError, "at least context_size=3"),
        (lambda m: m.score(["ab"]), ValueError, "Document 0 has 2"),
        (lambda m: m.generate(None), TypeError, "prompt must be a string"),
        (lambda m: m.generate(["the cat"]), TypeError, "prompt must be a string"),
        (lambda m: m.generate("the cat", n_chars=-1), ValueError, "n_chars"),
        (lambda m: m.generate("the cat", temperature=-1.0), ValueError, "temperature"),
        (
            lambda m: m.set_params(context_size=-2).fit(TEXT),
            InvalidParameterError,
            "context_size",
        ),
        (lambda m: m.set_params(device="tpu").fit(TEXT), ValueError, "Unknown device"),
    ],
    ids=[
        "predict bare string",
        "predict too short",
        "score too short",
        "generate None",
        "generate list",
        "negative n_chars",
        "negative temperature",
        "negative context_size",
        "unknown device",
    ],
)
def test_language_model_bad_calls(call, err, match):
    fresh = _fit(FFLanguageModel)
    with pytest.raises(err, match=match):
        call(fresh)


# -- every estimator: bad parameters, devices, unfitted use -------------------------
# (params, error, message pattern, estimators it applies to)
PARAMETER_CASES = [
    (dict(n_layers=0), InvalidParameterError, "n_layers", LAYERED),
    (dict(n_layers=-1), InvalidParameterError, "n_layers", LAYERED),
    (dict(hidden_size=0), InvalidParameterError, "hidden_size", LAYERED),
    (dict(hidden_size=-3), InvalidParameterError, "hidden_size", LAYERED),
    (
        dict(hidden_layer_sizes=2.5),
        InvalidParameterError,
        "hidden_layer_sizes",
        LAYERED,
    ),
    (dict(hidden_layer_sizes=(8, 0)), ValueError, "hidden_layer_sizes", LAYERED),
    (dict(hidden_layer_sizes=()), ValueError, "hidden_layer_sizes", LAYERED),
    (dict(hidden_layer_sizes=["8"]), ValueError, "hidden_layer_sizes", LAYERED),
    (dict(class_weight="auto"), InvalidParameterError, "class_weight", CLASSIFIERS),
    (dict(class_weight={0: np.inf}), ValueError, "class_weight", CLASSIFIERS),
    (dict(batch_size=0), InvalidParameterError, "batch_size", LAYERED),
    (dict(max_iter=2.5), InvalidParameterError, "max_iter", LAYERED),
    (
        dict(learning_rate_init=0.0),
        InvalidParameterError,
        "learning_rate_init",
        LAYERED,
    ),
    (
        dict(learning_rate_init=np.nan),
        InvalidParameterError,
        "learning_rate_init",
        LAYERED,
    ),
    (dict(loss="hinge"), InvalidParameterError, "loss", LAYERED),
    (dict(readout="vote"), InvalidParameterError, "readout", LAYERED),
    (dict(negatives="random"), InvalidParameterError, "negatives", LAYERED),
    (dict(label_strength=0.0), InvalidParameterError, "label_strength", LAYERED),
    (
        dict(validation_fraction=1.5),
        InvalidParameterError,
        "validation_fraction",
        LAYERED,
    ),
    (dict(precision="fp8"), InvalidParameterError, "precision", LAYERED),
    (dict(device=0), InvalidParameterError, "device", LAYERED),
    (dict(device="gpu"), ValueError, "Unknown device", LAYERED),
    (dict(device="tpu:0"), ValueError, "device", LAYERED),
    (dict(device="cuda:x"), ValueError, "device", LAYERED),
    (dict(device=""), ValueError, "device", LAYERED),
    (dict(device="cuda:7"), ValueError, "CUDA|visible", LAYERED),
    (
        dict(n_iterations=0),
        InvalidParameterError,
        "n_iterations",
        [FFRecurrentClassifier],
    ),
    (dict(damping=1.0), InvalidParameterError, "damping", [FFRecurrentClassifier]),
    (dict(damping=-0.1), InvalidParameterError, "damping", [FFRecurrentClassifier]),
    (
        dict(goodness_window=3),
        InvalidParameterError,
        "goodness_window",
        [FFRecurrentClassifier],
    ),
    (dict(context_size=0), InvalidParameterError, "context_size", [FFLanguageModel]),
]


@pytest.mark.parametrize(
    "cls, params, err, match",
    [
        pytest.param(
            cls,
            params,
            err,
            match,
            id="{}-{}={!r}".format(cls.__name__, *next(iter(params.items()))),
        )
        for params, err, match, applies in PARAMETER_CASES
        for cls in applies
    ],
)
def test_bad_parameters(cls, params, err, match):
    est = _make(cls, **params)
    with pytest.raises(err, match=match):
        est.fit(TEXT) if cls is FFLanguageModel else est.fit(X, y)
    assert not hasattr(est, "core_")


@each_estimator("readout")
def test_parameter_read_at_predict_time_is_validated(spec):
    """readout is only read when predicting: a bad value set after fitting is
    refused there, with scikit-learn's error (not a crash deep inside)."""
    est = spec.fit()
    X_pred = spec.data()[2]
    est.predict(X_pred)  # valid before
    est.set_params(readout="bogus")
    with pytest.raises(InvalidParameterError, match="readout"):
        est.predict(X_pred)
    with pytest.raises(InvalidParameterError, match="readout"):
        est.predict_proba(X_pred)


@each_estimator()
def test_unavailable_cuda(spec, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    est = spec.make(device="cuda:1")
    with pytest.raises(ValueError, match="CUDA is not available"):
        spec.fit(est)
    assert not hasattr(est, "core_")
    assert resolve_device("auto").type in ("cpu", "mps")


@each_estimator()
def test_unfitted(spec):
    est = spec.make()
    with pytest.raises(NotFittedError):
        spec.outputs(est)
    if "predict" in spec.supports:
        with pytest.raises(NotFittedError):
            est.predict(spec.data()[2])


def test_unfitted_goodness_trajectory():
    with pytest.raises(NotFittedError):
        FFRecurrentClassifier().goodness_trajectory(X)


# -- every estimator: the bad inputs of its kind, at fit and at predict ------------
def _with_nan(a):
    a = np.array(a)
    a[3, 2] = np.nan
    return a


# (name, when, bad X from the good one, error, message pattern)
ARRAY_CASES = [
    ("NaN in X", "fit", _with_nan, ValueError, "NaN"),
    ("inf in X", "fit", lambda a: np.where(a > 0.9, np.inf, a), ValueError, "infinity"),
    ("empty X", "fit", lambda a: a[:0], ValueError, "0 sample"),
    (
        "strings in X",
        "fit",
        lambda a: np.full(a.shape, "a"),
        ValueError,
        "could not convert",
    ),
    ("1-D X", "fit", lambda a: a[:, 0], ValueError, "2D array"),
    ("NaN at predict", "predict", _with_nan, ValueError, "NaN"),
    (
        "wrong n_features at predict",
        "predict",
        lambda a: a[:, :10],
        ValueError,
        "64 features",
    ),
    ("empty X at predict", "predict", lambda a: a[:0], ValueError, "0 sample"),
]
TEXT_CASES = [
    (
        "None in the documents",
        "fit",
        lambda d: [d[0], None],
        TypeError,
        "document 1 is a NoneType",
    ),
    ("numbers", "fit", lambda d: np.arange(5.0), TypeError, "document 0 is a float"),
    ("empty list", "fit", lambda d: [], ValueError, "empty"),
    (
        "a bare string",
        "fit",
        lambda d: d[0],
        ValueError,
        "Iterable over raw text documents",
    ),
    (
        "too short at predict",
        "predict",
        lambda d: ["ab"],
        ValueError,
        "Document 0 has 2",
    ),
    (
        "a bare string at predict",
        "predict",
        lambda d: d[0],
        ValueError,
        "Iterable over raw text",
    ),
]


@pytest.mark.parametrize(
    "spec, name, when, bad, err, match",
    [
        pytest.param(spec, *case, id=f"{spec.name}-{case[0]}")
        for spec in ESTIMATORS
        for case in (TEXT_CASES if "text" in spec.supports else ARRAY_CASES)
    ],
)
def test_bad_input_of_its_kind(spec, name, when, bad, err, match):
    X_good, y, _ = spec.data()
    X_bad = bad(X_good)
    if when == "fit":
        est = spec.make()
        y_bad = None if y is None else y[: len(X_bad)]
        with pytest.raises(err, match=match):
            spec.fit(est, X_bad, y_bad)
        assert not hasattr(est, "core_")
    else:
        est = _fitted(spec.name)
        with pytest.raises(err, match=match):
            spec.outputs(est, X_bad)


@functools.cache
def _fitted(name):
    return SPECS[name].fit()
