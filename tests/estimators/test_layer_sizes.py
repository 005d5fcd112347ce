"""hidden_layer_sizes: layers of different widths for every estimator whose
network is a stack of layers, with n_layers / hidden_size as the uniform
shorthand; warm starts, memory estimates and saved models follow the widths."""

import pickle

import numpy as np
import pytest
from conftest import ESTIMATORS as REGISTRY
from conftest import SPECS

from skff import FFClassifier, FFLanguageModel, FFRecurrentClassifier, FFTransformer

rng = np.random.RandomState(0)
X = rng.rand(60, 12)
y = np.arange(60) % 3
DOCS = ["the cat sat on the mat. " * 4, "a dog ran to the log. " * 4]

# the registry's estimators whose network is a stack of layers, smaller still
ESTIMATORS = [spec.cls for spec in REGISTRY if "layer_sizes" in spec.supports]
OVERRIDES = {
    FFRecurrentClassifier: dict(n_iterations=3, goodness_window=(1, 2)),
    FFLanguageModel: dict(context_size=3, batch_size=32),
}


def _make(cls, **params):
    """The registry's settings without its n_layers / hidden_size shorthand
    (the defaults: hidden_layer_sizes may then set the widths)."""
    small = {"max_iter": 2, "batch_size": 16, **OVERRIDES.get(cls, {})}
    settings = SPECS[cls.__name__].settings(**small)
    shorthand = cls().get_params()
    settings.update(
        n_layers=shorthand["n_layers"], hidden_size=shorthand["hidden_size"]
    )
    return cls(**{**settings, **params}, random_state=0)


def _fit(est):
    if isinstance(est, FFLanguageModel):
        return est.fit(DOCS)
    if isinstance(est, FFTransformer):
        return est.fit(X)
    return est.fit(X, y)


def _outputs(est):
    if isinstance(est, FFLanguageModel):
        return est.predict_log_proba(["the cat s"])
    if isinstance(est, FFTransformer):
        return est.transform(X)
    return est.predict_proba(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_every_layer_has_its_width(cls):
    est = _fit(_make(cls, hidden_layer_sizes=(9, 5, 7)))
    core = est.core_
    assert core.hidden_sizes == [9, 5, 7]
    if cls is FFRecurrentClassifier:
        # bottom-up weights read the layer below, top-down ones the layer
        # above (the label at the top)
        shapes = [
            (tuple(lay.weight_up.shape), tuple(lay.weight_down.shape))
            for lay in core.layers
        ]
        assert shapes == [((9, 13), (9, 5)), ((5, 9), (5, 7)), ((7, 5), (7, 3))]
    else:
        shapes = [tuple(layer.weight.shape) for layer in core.layers]
        assert [s[0] for s in shapes] == [9, 5, 7]
        assert [s[1] for s in shapes[1:]] == [9, 5]
    if cls is FFTransformer:  # all the layers
        assert est.transform(X).shape == (60, 9 + 5 + 7)
    else:
        assert core.head.weight.shape == (core.n_classes, 9 + 5 + 7)
    out = _outputs(est)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_the_shorthand_and_its_rule(cls):
    # None: n_layers layers of hidden_size units
    assert _fit(_make(cls, n_layers=3, hidden_size=6)).core_.hidden_sizes == [6] * 3
    # given, it wins over n_layers and hidden_size left at their defaults
    assert _fit(_make(cls, hidden_layer_sizes=[4, 8])).core_.hidden_sizes == [4, 8]
    # an int is one layer, as in MLPClassifier
    assert _fit(_make(cls, hidden_layer_sizes=5)).core_.hidden_sizes == [5]
    # values that agree with it are accepted
    same = _make(cls, n_layers=2, hidden_size=6, hidden_layer_sizes=(6, 6))
    assert _fit(same).core_.hidden_sizes == [6, 6]
    # the same network either way
    np.testing.assert_array_equal(
        _outputs(same), _outputs(_fit(_make(cls, n_layers=2, hidden_size=6)))
    )


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "params, named",
    [
        (dict(n_layers=3, hidden_layer_sizes=(4, 8)), ["n_layers=3"]),
        (dict(hidden_size=4, hidden_layer_sizes=(4, 8)), ["hidden_size=4"]),
        (
            dict(n_layers=1, hidden_size=9, hidden_layer_sizes=(4, 8)),
            ["n_layers=1", "hidden_size=9"],
        ),
    ],
)
def test_contradicting_shorthand_is_an_error(cls, params, named):
    est = _make(cls, **params)
    with pytest.raises(
        ValueError, match=r"hidden_layer_sizes=\(4, 8\) contradicts"
    ) as err:
        _fit(est)
    assert all(name in str(err.value) for name in named)
    assert not hasattr(est, "core_") and not hasattr(est, "n_features_in_")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_refuses_other_widths(cls):
    est = _fit(_make(cls, hidden_layer_sizes=(6, 4), warm_start=True))
    core = est.core_
    # the same widths, as a list: training continues
    _fit(est.set_params(hidden_layer_sizes=[6, 4]))
    assert est.core_ is core and len(est.loss_curve_) == 4
    est.set_params(hidden_layer_sizes=(6, 5))
    with pytest.raises(
        ValueError, match=r"hidden_layer_sizes changed.*\[6, 4\].*\[6, 5\]"
    ):
        _fit(est)
    assert est.core_ is core
    if cls is not FFLanguageModel:
        with pytest.raises(ValueError, match="hidden_layer_sizes changed"):
            if cls is FFTransformer:
                est.partial_fit(X)
            else:
                est.partial_fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_accepts_the_same_widths_spelled_otherwise(cls):
    est = _fit(_make(cls, n_layers=2, hidden_size=6, warm_start=True))
    core = est.core_
    _fit(est.set_params(n_layers=2, hidden_size=6, hidden_layer_sizes=(6, 6)))
    assert est.core_ is core and len(est.loss_curve_) == 4
    default = cls().get_params()
    est.set_params(
        n_layers=default["n_layers"],
        hidden_size=default["hidden_size"],
        hidden_layer_sizes=[6, 6],
    )
    _fit(est)
    assert est.core_ is core and len(est.loss_curve_) == 6


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_model_saved_before_hidden_layer_sizes_keeps_training(cls):
    """A model saved before the parameter existed was built from n_layers
    and hidden_size: it loads, predicts and warm-starts as before."""
    est = _fit(_make(cls, n_layers=2, hidden_size=6, warm_start=True))
    state = est.__getstate__()
    del state["hidden_layer_sizes"]
    del state["_built_with"]["hidden_layer_sizes"]
    loaded = cls.__new__(cls)
    loaded.__setstate__(state)
    assert loaded.hidden_layer_sizes is None
    np.testing.assert_array_equal(_outputs(loaded), _outputs(est))
    _fit(loaded)
    assert len(loaded.loss_curve_) == 4


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_saved_model_with_different_widths_predicts_alike(cls):
    est = _fit(_make(cls, hidden_layer_sizes=(9, 5)))
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.core_.hidden_sizes == [9, 5]
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(_outputs(loaded), _outputs(est))


@pytest.mark.parametrize("cls", [FFClassifier, FFRecurrentClassifier])
def test_impossible_widths_are_a_clear_memory_error(cls):
    est = _make(cls, hidden_layer_sizes=(8, 200_000, 200_000))
    with pytest.raises(
        MemoryError, match=r"hidden_layer_sizes=\(8, 200000, 200000\).*GiB"
    ):
        est.fit(X, y)
    assert not hasattr(est, "core_")


def test_transformer_output_layers_count_the_given_layers():
    est = _make(FFTransformer, hidden_layer_sizes=(6, 4, 3), output_layers=[2, 0])
    assert _fit(est).transform(X).shape == (60, 3 + 6)
    est.set_params(output_layers=[3])
    with pytest.raises(ValueError, match=r"output_layers.*\[0, 2\]"):
        _fit(est)


def test_recurrent_layers_of_different_widths_learn(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = FFRecurrentClassifier(
        hidden_layer_sizes=(96, 32),
        n_iterations=4,
        goodness_window=(2, 3),
        max_iter=20,
        batch_size=50,
        device="cpu",
        random_state=0,
    ).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.8


@pytest.mark.parametrize("channels", [(10.7, 12.9), ("10", "12"), (10, True), ()])
def test_conv_channels_are_whole_numbers_as_widths_are(channels):
    # one rule for widths everywhere: floats and strings are refused, not cut
    spec = SPECS["FFConvClassifier"]
    clf = spec.make(channels=channels)
    with pytest.raises(ValueError, match="channels must be a non-empty sequence"):
        spec.fit(clf)
    assert not hasattr(clf, "core_")
    with pytest.raises(ValueError, match="hidden_layer_sizes must be"):
        SPECS["FFClassifier"].fit(
            SPECS["FFClassifier"].make(hidden_layer_sizes=channels)
        )
