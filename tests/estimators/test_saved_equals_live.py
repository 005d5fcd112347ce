"""A saved model predicts bit-identically to the live one, whatever happened
to it: every constructor parameter changed with ``set_params``, then a warm or
cold ``fit`` and a ``partial_fit``, then pickle, joblib and skops round trips.
And a loaded file is checked against its network."""

import io
import pickle

import joblib
import numpy as np
import pytest
from conftest import SPECS

from skff import (
    FFClassifier,
    FFLanguageModel,
    FFTransformer,
    ModelFormatError,
)

rng = np.random.RandomState(0)
X = rng.rand(60, 12)
y = np.arange(60) % 3
X_new = rng.rand(9, 12)
DOCS = ["the cat sat on the mat. " * 4, "a dog ran to the log. " * 4]
PROMPTS = ["the cat sa", "a dog ran "]

# the registry's settings, smaller still, for 12-feature rows
FAST = {
    SPECS[name].cls: SPECS[name].settings(**overrides)
    for name, overrides in {
        "FFClassifier": dict(hidden_size=8, max_iter=2, batch_size=16),
        "FFRecurrentClassifier": dict(
            hidden_size=8, max_iter=2, batch_size=16, goodness_window=(1, 2)
        ),
        "FFLanguageModel": dict(
            context_size=3, n_layers=2, hidden_size=8, max_iter=2, batch_size=32
        ),
        "FFConvClassifier": dict(
            input_shape=(1, 3, 4), channels=(6, 6), max_iter=2, batch_size=16
        ),
        "FFTransformer": dict(hidden_size=8, max_iter=2, batch_size=16),
    }.items()
}

# a value other than the FAST one or the default, for every parameter
ALTERNATIVE = {
    "n_layers": 3,
    "hidden_size": 6,
    "hidden_layer_sizes": (7, 5),
    "loss": "logistic",
    "goodness": "sum",
    "threshold": 1.0,
    "symba_scale": 2.0,
    "label_injection": "overlay",
    "label_strength": 3.0,
    "negatives": "uniform",
    "n_negatives": 2,
    "peer_normalization": 0.03,
    "readout": "goodness",
    "readout_skip_first": True,
    "class_weight": {0: 1.0, 1: 2.0, 2: 0.5},
    "alpha": 1e-4,
    "learning_rate_init": 0.003,
    "learning_rate": "constant",
    "max_iter": 3,
    "batch_size": 10,
    "early_stopping": True,
    "calibrate": True,
    "validation_fraction": 0.3,
    "n_iter_no_change": 1,
    "tol": 0.1,
    "warm_start": False,
    "device": "cpu",
    "precision": "bf16",
    "random_state": 7,
    "verbose": 1,
    "n_iterations": 4,
    "damping": 0.5,
    "goodness_window": (2, 3),
    "normalize_input": False,
    "context_size": 4,
    "lowercase": True,
    "alphabet": "abcdefghijklmnopqrstuvwxyz .",
    "input_shape": (2, 6),
    "channels": (3, 6),
    "kernel_size": 2,
    "pooling": "avg",
    "normalization": "sample",
    "pooling_schedule": "stage",
    "shortcut": "add",
    "goodness_power": 1,
    "label_mode": "input",
    "output_layers": [1, 0],
    "parallel": "pipeline",
    "n_workers": 1,
    "feature_grid": 1,
    "goodness_scope": "image",
    "pair_weights": "separate",
    "input_normalization": "center",
    "activation": "relu",
    "negative_threshold": 3.0,
    "positive_penalty": 0.01,
    "layer_training": "greedy",
}
# parameters that the transformer reads other values of
TRANSFORMER_OTHER = {"negatives": "hybrid", "input_shape": (3, 4)}
# the transformer's convolutional settings are swept on convolutional blocks
CONV_TRANSFORMER = {"channels": (3, 6), "input_shape": (3, 4)}
TRANSFORMER_WITH = {
    name: CONV_TRANSFORMER
    for name in ("channels", "kernel_size", "feature_grid", "goodness_scope")
}
READOUT_OTHER = {FFLanguageModel: "both"}
# hidden_layer_sizes replaces the shorthand that FAST sets: the shorthand goes
# back to its defaults (which give way to it) when it is swept
SHORTHAND = ("n_layers", "hidden_size")


def _fit(est, incremental=False):
    if isinstance(est, FFLanguageModel):
        return est.fit(DOCS)
    if isinstance(est, FFTransformer):
        return est.partial_fit(X) if incremental else est.fit(X)
    if incremental:
        return est.partial_fit(X, y)
    return est.fit(X, y)


def _outputs(est):
    if isinstance(est, FFLanguageModel):
        return [est.predict_log_proba(PROMPTS), *est.predict_log_proba_sequence(DOCS)]
    if isinstance(est, FFTransformer):
        return [est.transform(X_new), est.score_samples(X_new)]
    return [est.predict_proba(X_new)]


def _round_trips(est, tmp_path):
    yield "pickle", pickle.loads(pickle.dumps(est))
    buf = io.BytesIO()
    joblib.dump(est, buf)
    buf.seek(0)
    yield "joblib", joblib.load(buf)
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    yield "skops", sio.load(path, trusted=sio.get_untrusted_types(file=path))


def _cases():
    for cls, fast in FAST.items():
        for name in cls().get_params():
            yield pytest.param(cls, fast, name, id=f"{cls.__name__}-{name}")


@pytest.mark.parametrize("cls, fast, name", _cases())
def test_saved_model_predicts_like_the_live_one(cls, fast, name, tmp_path, capsys):
    if name == "readout":
        value = READOUT_OTHER.get(cls, ALTERNATIVE[name])
    elif cls is FFTransformer:
        value = TRANSFORMER_OTHER.get(name, ALTERNATIVE[name])
    else:
        value = ALTERNATIVE[name]
    est = _fit(cls(**fast, warm_start=True, random_state=0))
    if name == "hidden_layer_sizes":
        defaults = cls().get_params()
        est.set_params(**{k: defaults[k] for k in SHORTHAND})
    extra = TRANSFORMER_WITH.get(name, {}) if cls is FFTransformer else {}
    est.set_params(**{**extra, name: value})
    try:
        _fit(est)  # a warm refit with the changed setting
    except ValueError as exc:  # a setting that shapes the network
        assert "warm_start" in str(exc)
        assert any(k in str(exc) for k in (name, *extra)), str(exc)
        est.set_params(warm_start=False)
        _fit(est)
    if not isinstance(est, FFLanguageModel):
        _fit(est, incremental=True)
    live = _outputs(est)
    for how, loaded in _round_trips(est, tmp_path):
        assert loaded.get_params() == est.get_params(), how
        for a, b in zip(_outputs(loaded), live, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} via {how}")
    capsys.readouterr()


def test_every_parameter_is_swept():
    for cls in FAST:
        assert set(cls().get_params()) <= set(ALTERNATIVE), cls.__name__


@pytest.mark.parametrize("name", ["label_strength", "symba_scale", "loss", "goodness"])
def test_warm_refit_with_a_changed_objective_is_what_gets_saved(name):
    """The 0.1.0 defect: the saved network kept the settings it was built
    with while training had used the new ones."""
    clf = FFClassifier(hidden_size=16, max_iter=3, warm_start=True, random_state=0)
    clf.fit(X, y).set_params(**{name: ALTERNATIVE[name]}).fit(X, y)
    assert getattr(clf.core_.objective, name) == ALTERNATIVE[name]
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_language_model_warm_start_refuses_changed_structure():
    lm = FFLanguageModel(**FAST[FFLanguageModel], warm_start=True, random_state=0)
    lm.fit(DOCS)
    for name in ("context_size", "hidden_size", "n_layers", "lowercase", "alphabet"):
        before = lm.get_params()[name]
        lm.set_params(**{name: ALTERNATIVE[name]})
        with pytest.raises(ValueError, match=f"{name} changed"):
            lm.fit(DOCS)
        lm.set_params(**{name: before})
    # the objective may change: it is used, and saved
    lm.set_params(label_strength=2.0).fit(DOCS)
    assert lm.core_.objective.label_strength == 2.0


def test_changed_architecture_parameter_does_not_break_prediction():
    """Prediction reads the fitted network, not parameters changed since."""
    lm = FFLanguageModel(**FAST[FFLanguageModel], random_state=0).fit(DOCS)
    expected = lm.predict_log_proba(PROMPTS)
    lm.set_params(context_size=7, hidden_size=3)
    np.testing.assert_array_equal(lm.predict_log_proba(PROMPTS), expected)


# -- loading checks ------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved():
    clf = FFClassifier(**FAST[FFClassifier], random_state=0).fit(X, y)
    return clf, clf.__getstate__()


def _load(state, cls=FFClassifier):
    est = cls.__new__(cls)
    est.__setstate__(state)
    return est


def _with_weights(state, **changes):
    core = dict(state["_core_state"])
    core["weights"] = {**core["weights"], **changes}
    return {**state, "_core_state": core}


def test_clean_state_loads(saved):
    clf, state = saved
    np.testing.assert_array_equal(_load(dict(state)).predict(X), clf.predict(X))


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda s: {**s, "classes_": np.arange(5)}, "5 classes_ but its network"),
        (lambda s: {**s, "n_features_in_": 11}, "n_features_in_=11"),
        (
            lambda s: _with_weights(
                s,
                **{
                    "layers.0.weight": s["_core_state"]["weights"][
                        "layers.0.weight"
                    ].astype(np.int64)
                },
            ),
            "'layers.0.weight' has dtype int64",
        ),
        (
            lambda s: _with_weights(s, **{"layers.1.bias": np.zeros(3, np.float32)}),
            r"'layers.1.bias' has shape \(3,\)",
        ),
        (
            lambda s: _with_weights(s, **{"head.bias": np.full(3, np.nan, np.float32)}),
            "non-finite",
        ),
        (
            lambda s: _with_weights(s, extra=np.zeros(2, np.float32)),
            r"unexpected \['extra'\]",
        ),
        (
            lambda s: {**s, "_core_state": {**s["_core_state"], "class": "Nope"}},
            "no valid network",
        ),
        (
            lambda s: {
                **s,
                "_core_state": {
                    **s["_core_state"],
                    "config": {**s["_core_state"]["config"], "hidden_sizes": [4, 4]},
                },
            },
            "has shape",
        ),
        (lambda s: {**s, "_skff_state_format": "2"}, "invalid state format '2'"),
        (lambda s: {**s, "_skff_state_format": 99}, "state format 99"),
    ],
)
def test_bad_state_raises_model_format_error(saved, mutate, match):
    _, state = saved
    with pytest.raises(ModelFormatError, match=match):
        _load(mutate(dict(state)))


def test_state_format_1_from_skff_0_1_loads(saved):
    """A file written by skff 0.1.0 (flat objective in the core's config)."""
    clf, state = saved
    config = dict(state["_core_state"]["config"])
    objective = config.pop("objective")
    config.update(
        goodness=objective["goodness"],
        loss=objective["loss"],
        threshold=objective["threshold"],
        alpha=objective["symba_scale"],
        label_strength=objective["label_strength"],
        peer_normalization=objective["peer_normalization"],
    )
    old = {
        **state,
        "_skff_state_format": 1,
        "_core_state": {**state["_core_state"], "config": config},
    }
    loaded = _load(old)
    assert loaded.core_.objective == clf.core_.objective
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
