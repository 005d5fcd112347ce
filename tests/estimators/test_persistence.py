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

import skff
from skff import FFClassifier, FFLanguageModel, FFRecurrentClassifier, ModelFormatError
from skff.core import FFNet, RecurrentFFNet

FAST = dict(n_layers=2, hidden_size=32, max_iter=5, batch_size=50, device="cpu")
RECURRENT = dict(
    n_layers=2,
    hidden_size=32,
    n_iterations=4,
    goodness_window=(2, 3),
    max_iter=5,
    batch_size=50,
    device="cpu",
)
LM_FAST = dict(context_size=4, hidden_size=64, max_iter=4, batch_size=64, device="cpu")
DOCS = [
    "the cat sat on the mat and the cat ate the rat. " * 6,
    "a dog sat on a log and the dog ate a frog. " * 6,
]
CORE = {
    FFClassifier: FFNet,
    FFRecurrentClassifier: RecurrentFFNet,
    FFLanguageModel: FFNet,
}
# the one type skops must be told to trust (the name users pass)
TRUSTED_NAME = {
    FFClassifier: "skff._classifier.FFClassifier",
    FFRecurrentClassifier: "skff._recurrent.FFRecurrentClassifier",
    FFLanguageModel: "skff._language_model.FFLanguageModel",
}


@pytest.fixture(
    scope="module",
    params=[FFClassifier, FFRecurrentClassifier, FFLanguageModel],
    ids=lambda c: c.__name__,
)
def fitted(request, small_digits):
    """(fitted estimator, data to predict on)."""
    cls = request.param
    if cls is FFLanguageModel:
        lm = FFLanguageModel(**LM_FAST, random_state=0).fit(DOCS)
        return lm, [*DOCS, "the cat sa"]
    X_tr, X_te, y_tr, _ = small_digits
    params = RECURRENT if cls is FFRecurrentClassifier else FAST
    return cls(**params, random_state=0).fit(X_tr, y_tr), X_te


def _scores(est, X):
    """What the estimator computes from its weights: class probabilities, or
    each document's log-likelihood."""
    if isinstance(est, FFLanguageModel):
        return est.score_samples(X)
    return est.predict_proba(X)


def _assert_same_model(loaded, est, X):
    np.testing.assert_array_equal(_scores(loaded, X), _scores(est, X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_joblib_round_trip(fitted, tmp_path):
    est, X = fitted
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path)
    assert type(loaded.core_) is CORE[type(est)]
    _assert_same_model(loaded, est, X)
    assert loaded.get_params() == est.get_params()
    assert loaded.loss_curve_ == est.loss_curve_
    if isinstance(est, FFRecurrentClassifier):
        np.testing.assert_array_equal(
            loaded.goodness_trajectory(X), est.goodness_trajectory(X)
        )


def test_pickled_state_holds_no_torch_objects(fitted):
    est, _ = fitted
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
    est, X = fitted
    buf = io.BytesIO()
    with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"):
        pickle.dump(est, buf)
    est_cuda = pickle.loads(buf.getvalue())
    with mock.patch("torch.cuda.is_available", return_value=False):
        loaded = pickle.loads(buf.getvalue())
    _assert_same_model(loaded, est, X)
    np.testing.assert_array_equal(est_cuda.predict(X), est.predict(X))
    assert loaded._core_device().type == "cpu"


def test_model_recorded_on_cuda_predicts_on_cpu(fitted):
    est, X = fitted
    state = est.__getstate__()
    state["device_"] = "cuda:0"
    state["device"] = "cuda"
    clone = type(est).__new__(type(est))
    clone.__setstate__(state)
    np.testing.assert_array_equal(clone.predict(X), est.predict(X))


def test_skops_with_only_skff_types_trusted(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    est, X = fitted
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [TRUSTED_NAME[type(est)]]
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_model(loaded, est, X)


def test_old_state_format_gives_clear_error(fitted):
    est, _ = fitted
    state = est.__getstate__()
    state["_skff_state_format"] = 0
    state["_skff_version"] = "0.0.1"
    with pytest.raises(ModelFormatError, match=r"skff 0\.0\.1.*" + skff.__version__):
        type(est).__new__(type(est)).__setstate__(state)


def test_parameter_added_after_saving_takes_its_default(fitted):
    # a model saved before `precision` existed (same state format)
    est, X = fitted
    state = est.__getstate__()
    del state["precision"]
    loaded = type(est).__new__(type(est))
    loaded.__setstate__(state)
    assert loaded.get_params()["precision"] == "float32"
    assert "precision" not in state
    np.testing.assert_array_equal(_scores(loaded, X), _scores(est, X))
    assert type(est)(**loaded.get_params()).get_params() == est.get_params()


def test_model_saved_before_n_negatives_keeps_one_negative(fitted):
    """n_negatives did not exist: such a model trained, and goes on training,
    with one negative per positive, whatever the current default."""
    est, _ = fitted
    state = est.__getstate__()
    del state["n_negatives"]
    loaded = type(est).__new__(type(est))
    loaded.__setstate__(state)
    assert loaded.n_negatives == 1


def test_model_saved_before_calibrate_holds_out_rows_as_before(fitted):
    """calibrate did not exist: such a model held rows out only for early
    stopping, and goes on doing so, whatever the current default."""
    est, _ = fitted
    if "calibrate" not in est.get_params():
        pytest.skip(f"{type(est).__name__} has no calibrate")
    state = est.__getstate__()
    del state["calibrate"]
    loaded = type(est).__new__(type(est))
    loaded.__setstate__(state)
    assert loaded.calibrate is False


def test_loaded_model_keeps_training(fitted, small_digits):
    est, X = fitted
    loaded = pickle.loads(pickle.dumps(est))
    if isinstance(est, FFLanguageModel):  # no partial_fit: a warm start
        loaded.set_params(warm_start=True, max_iter=1).fit(DOCS)
    else:
        X_tr, _, y_tr, _ = small_digits
        loaded.partial_fit(X_tr, y_tr)
    assert len(loaded.loss_curve_) == len(est.loss_curve_) + 1
