"""A fit that fails keeps the previous model; settings fail with clear
errors; saved models without a needed fitted attribute do not load; every
parameter has exactly one constraint."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skff import (
    FFClassifier,
    FFConvClassifier,
    FFLanguageModel,
    FFRecurrentClassifier,
    FFTransformer,
)
from skff.exceptions import ModelFormatError

X, Y = load_digits(return_X_y=True)
X = X[:300] / 16.0
Y = Y[:300]
DOCS = ["the quick brown fox jumps over the lazy dog. " * 4, "a stitch in time. " * 6]
SMALL = dict(max_iter=2, random_state=0, device="cpu")

NUMERIC = {
    "FFClassifier": lambda: FFClassifier(hidden_size=16, calibrate=False, **SMALL),
    "FFConvClassifier": lambda: FFConvClassifier(
        input_shape=(1, 8, 8), channels=(10, 10), **SMALL
    ),
    "FFRecurrentClassifier": lambda: FFRecurrentClassifier(
        hidden_size=16, n_iterations=2, goodness_window=(1, 2), **SMALL
    ),
    "FFTransformer": lambda: FFTransformer(hidden_size=16, **SMALL),
}


def _output(est, X):
    return est.transform(X) if isinstance(est, FFTransformer) else est.predict_proba(X)


@pytest.mark.parametrize("name", NUMERIC)
@pytest.mark.parametrize(
    "bad_X, bad_y",
    [
        (np.full((20, 10), 1e20), np.zeros(20)),  # another width, too large
        (np.full((20, 64), np.nan), np.arange(20) % 2),  # NaN
        (np.zeros((0, 64)), np.zeros(0)),  # no rows
    ],
    ids=["width", "nan", "empty"],
)
def test_failed_fit_keeps_the_previous_model(name, bad_X, bad_y):
    est = NUMERIC[name]()
    y = None if name == "FFTransformer" else Y
    est.fit(X, y)
    before = _output(est, X[:20])
    state = {k: v for k, v in vars(est).items() if k.endswith("_")}
    with pytest.raises(ValueError):
        est.fit(bad_X, None if y is None else bad_y)
    assert est.n_features_in_ == 64
    np.testing.assert_array_equal(_output(est, X[:20]), before)
    assert {
        k: v for k, v in vars(est).items() if k.endswith("_")
    }.keys() == state.keys()


@pytest.mark.parametrize("name", ["FFClassifier", "FFConvClassifier"])
def test_failed_fit_on_one_class_keeps_the_previous_model(name):
    est = NUMERIC[name]().fit(X, Y)
    before = est.predict_proba(X[:20])
    with pytest.raises(ValueError, match="one class|input_shape"):
        est.fit(np.zeros((20, 10)), np.zeros(20))
    np.testing.assert_array_equal(est.predict_proba(X[:20]), before)


def test_failed_fit_keeps_the_language_model():
    lm = FFLanguageModel(context_size=4, hidden_size=16, **SMALL).fit(DOCS)
    before = lm.score(DOCS)
    with pytest.raises(ValueError):
        lm.fit(["abc"])  # shorter than the context
    assert lm.score(DOCS) == before


def test_failed_fit_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"p{i}" for i in range(64)])
    clf = NUMERIC["FFClassifier"]().fit(frame, Y)
    with pytest.raises(ValueError):
        clf.fit(np.zeros((20, 10)), np.zeros(20))
    assert list(clf.feature_names_in_) == list(frame.columns)
    clf.fit(X, Y)  # plain arrays: the names go
    assert not hasattr(clf, "feature_names_in_")


@pytest.mark.parametrize("channels", [(10.7, 12.9), ("10", "12"), (10, True), (), 10])
def test_conv_channels_are_whole_numbers(channels):
    clf = FFConvClassifier(input_shape=(1, 8, 8), channels=channels, **SMALL)
    with pytest.raises(ValueError, match="channels"):
        clf.fit(X, Y)
    assert not hasattr(clf, "core_")


@pytest.mark.parametrize("sizes", [(40.0, 20), ("40",), (0,), ()])
def test_layer_widths_are_whole_numbers(sizes):
    with pytest.raises(ValueError, match="hidden_layer_sizes must be"):
        FFClassifier(hidden_layer_sizes=sizes, **SMALL).fit(X, Y)


@pytest.mark.parametrize("name", NUMERIC)
def test_batch_larger_than_the_data_trains(name):
    est = NUMERIC[name]().set_params(batch_size=10**8, max_iter=1)
    est.fit(X, None if name == "FFTransformer" else Y)  # no false MemoryError
    assert est.n_iter_ == 1


@pytest.mark.parametrize("name", [*NUMERIC, "FFLanguageModel"])
def test_saved_model_without_a_needed_attribute_does_not_load(name):
    if name == "FFLanguageModel":
        est = FFLanguageModel(context_size=4, hidden_size=16, **SMALL).fit(DOCS)
        needed = ["classes_", "vocabulary_"]
    else:
        est = NUMERIC[name]().fit(X, None if name == "FFTransformer" else Y)
        needed = ["n_features_in_"]
        if name != "FFTransformer":
            needed.append("classes_")
    for attr in needed:
        state = est.__getstate__()
        del state[attr]
        blank = type(est).__new__(type(est))
        with pytest.raises(ModelFormatError, match=attr):
            blank.__setstate__(state)
    pickle.loads(pickle.dumps(est))  # the whole state loads


@pytest.mark.parametrize(
    "cls",
    [
        FFClassifier,
        FFConvClassifier,
        FFRecurrentClassifier,
        FFTransformer,
        FFLanguageModel,
    ],
)
def test_every_parameter_has_one_constraint(cls):
    assert set(cls._parameter_constraints) == set(cls().get_params())


@pytest.mark.parametrize("name", ["FFClassifier", "FFTransformer"])
def test_prediction_holds_little_beyond_its_result(name):
    """Rows are converted and scored a chunk at a time into one result
    array: the numpy memory of a prediction stays near the result's size
    (the input is not copied whole, chunks are not gathered and joined)."""
    import tracemalloc

    est = NUMERIC[name]().fit(X, None if name == "FFTransformer" else Y)
    big = np.tile(X, (200, 1))  # 60,000 rows
    _output(est, big[:100])
    tracemalloc.start()
    try:
        out = _output(est, big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # predict_proba also holds the log-probabilities it exponentiates
    assert peak < 2.2 * out.nbytes + (4 << 20), (peak, out.nbytes)
