"""Persistence of every estimator: joblib round trips, GPU-trained pickles on
CPU-only machines, skops with only skff types trusted, and state-format
versioning."""

import io
import pickle
from unittest import mock

import joblib
import numpy as np
import pytest
import torch
from conftest import each_estimator

import skff
from skff import (
    FFClassifier,
    FFConvClassifier,
    FFLanguageModel,
    FFRecurrentClassifier,
    FFTransformer,
    ModelFormatError,
)
from skff.core import ChannelwiseConvNet, FFNet, RecurrentFFNet, UnsupervisedFFNet

CORE = {
    FFClassifier: FFNet,
    FFConvClassifier: ChannelwiseConvNet,
    FFRecurrentClassifier: RecurrentFFNet,
    FFTransformer: UnsupervisedFFNet,
    FFLanguageModel: FFNet,
}
# the one type skops must be told to trust (the name users pass)
TRUSTED_NAME = {
    FFClassifier: "skff._classifier.FFClassifier",
    FFConvClassifier: "skff._conv.FFConvClassifier",
    FFRecurrentClassifier: "skff._recurrent.FFRecurrentClassifier",
    FFTransformer: "skff._transformer.FFTransformer",
    FFLanguageModel: "skff._language_model.FFLanguageModel",
}


@pytest.fixture(scope="module")
def fitted(spec):
    """(the registry's entry, its fitted estimator, data to predict on)."""
    return spec, spec.fit(), spec.data()[2]


def _assert_same_model(spec, loaded, est, X):
    np.testing.assert_array_equal(spec.outputs(loaded, X), spec.outputs(est, X))
    if "predict" in spec.supports:
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_joblib_round_trip(fitted, tmp_path):
    spec, est, X = fitted
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path)
    assert type(loaded.core_) is CORE[type(est)]
    _assert_same_model(spec, loaded, est, X)
    assert loaded.get_params() == est.get_params()
    assert loaded.loss_curve_ == est.loss_curve_
    if isinstance(est, FFRecurrentClassifier):
        np.testing.assert_array_equal(
            loaded.goodness_trajectory(X), est.goodness_trajectory(X)
        )


def test_pickled_state_holds_no_torch_objects(fitted):
    spec, est, _ = fitted
    state = est.__getstate__()
    assert "core_" not in state

    def walk(obj):
        if isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v)
        else:
            assert not isinstance(obj, (torch.Tensor, torch.nn.Module, torch.Generator))

    walk(state)


def test_cuda_trained_pickle_loads_on_cpu(fitted):
    """Tag every storage as cuda:0 while pickling (what a GPU-trained model
    would produce if torch objects were pickled); loading on this CPU-only
    process must still work."""
    spec, est, X = fitted
    buf = io.BytesIO()
    with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"):
        pickle.dump(est, buf)
    est_cuda = pickle.loads(buf.getvalue())
    with mock.patch("torch.cuda.is_available", return_value=False):
        loaded = pickle.loads(buf.getvalue())
    _assert_same_model(spec, loaded, est, X)
    np.testing.assert_array_equal(spec.outputs(est_cuda, X), spec.outputs(est, X))
    assert next(loaded.core_.parameters()).device.type == "cpu"


def test_model_recorded_on_cuda_predicts_on_cpu(fitted):
    spec, est, X = fitted
    state = est.__getstate__()
    state["device_"] = "cuda:0"
    state["device"] = "cuda"
    clone = type(est).__new__(type(est))
    clone.__setstate__(state)
    np.testing.assert_array_equal(spec.outputs(clone, X), spec.outputs(est, X))


def test_skops_with_only_skff_types_trusted(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    spec, est, X = fitted
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [TRUSTED_NAME[type(est)]]
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_model(spec, loaded, est, X)


def test_old_state_format_gives_clear_error(fitted):
    spec, est, _ = fitted
    state = est.__getstate__()
    state["_skff_state_format"] = 0
    state["_skff_version"] = "0.0.1"
    with pytest.raises(ModelFormatError, match=r"skff 0\.0\.1.*" + skff.__version__):
        type(est).__new__(type(est)).__setstate__(state)


def test_parameter_added_after_saving_takes_its_default(fitted):
    # a model saved before `precision` existed (same state format)
    spec, est, X = fitted
    state = est.__getstate__()
    del state["precision"]
    loaded = type(est).__new__(type(est))
    loaded.__setstate__(state)
    assert loaded.get_params()["precision"] == "float32"
    assert "precision" not in state
    np.testing.assert_array_equal(spec.outputs(loaded, X), spec.outputs(est, X))
    assert type(est)(**loaded.get_params()).get_params() == est.get_params()


@each_estimator("n_negatives")
def test_model_saved_before_n_negatives_keeps_one_negative(spec):
    """n_negatives did not exist: such a model trained, and goes on training,
    with one negative per positive, whatever the current default."""
    est = spec.fit()
    state = est.__getstate__()
    del state["n_negatives"]
    loaded = type(est).__new__(type(est))
    loaded.__setstate__(state)
    assert loaded.n_negatives == 1


@each_estimator("calibrate")
def test_model_saved_before_calibrate_holds_out_rows_as_before(spec):
    """calibrate did not exist: such a model held rows out only for early
    stopping, and goes on doing so, whatever the current default."""
    est = spec.fit()
    state = est.__getstate__()
    del state["calibrate"]
    loaded = type(est).__new__(type(est))
    loaded.__setstate__(state)
    assert loaded.calibrate is False


def test_transformer_saved_before_the_recipe_loads_as_it_was_trained():
    """A transformer saved before the self-contrastive parts existed had
    separate pair weights, centered rows and ReLU: it loads with those, its
    network rebuilt as it was, and gives the same features."""
    from skff import FFTransformer

    rows = np.random.RandomState(0).rand(40, 12)
    old = dict(pair_weights="separate", input_normalization="center", activation="relu")
    est = FFTransformer(hidden_size=8, max_iter=2, random_state=0, **old).fit(rows)
    state = est.__getstate__()
    new = ("negative_threshold", "positive_penalty", "layer_training")
    for name in (*old, *new):
        del state[name]
        state["_core_state"]["config"].pop(name)
    for name in ("channels", "kernel_size", "feature_grid", "goodness_scope"):
        del state[name]
    loaded = FFTransformer.__new__(FFTransformer)
    loaded.__setstate__(state)
    assert {k: loaded.get_params()[k] for k in old} == old
    np.testing.assert_array_equal(loaded.transform(rows), est.transform(rows))


def test_loaded_model_keeps_training(fitted):
    spec, est, _ = fitted
    loaded = pickle.loads(pickle.dumps(est))
    if "partial_fit" in spec.supports:
        spec.partial_fit(loaded)
    else:  # a warm start
        spec.fit(loaded.set_params(warm_start=True, max_iter=1))
    assert len(loaded.loss_curve_) == len(est.loss_curve_) + 1


@each_estimator()
def test_a_saved_model_without_a_needed_attribute_does_not_load(spec):
    est = spec.fit()
    needed = ["n_features_in_"] if "arrays" in spec.supports else ["vocabulary_"]
    if "classes" in spec.supports:
        needed.append("classes_")
    for attr in needed:
        state = est.__getstate__()
        del state[attr]
        blank = type(est).__new__(type(est))
        with pytest.raises(ModelFormatError, match=attr):
            blank.__setstate__(state)
    pickle.loads(pickle.dumps(est))  # the whole state loads
