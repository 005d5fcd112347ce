"""Persistence: joblib round trips, GPU-trained pickles on CPU-only machines,
skops with only skff types trusted, and state-format versioning."""

import io
import pickle
from unittest import mock

import joblib
import numpy as np
import pytest
import torch

import skff
from skff import FFClassifier, ModelFormatError

FAST = dict(n_layers=2, hidden_size=32, max_iter=5, batch_size=50, device="cpu")


@pytest.fixture(scope="module")
def fitted(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    return FFClassifier(**FAST, random_state=0).fit(X_tr, y_tr), X_te


def test_joblib_round_trip(fitted, tmp_path):
    clf, X_te = fitted
    path = tmp_path / "ff.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X_te), clf.predict_proba(X_te))
    assert loaded.get_params() == clf.get_params()
    assert loaded.loss_curve_ == clf.loss_curve_


def test_pickled_state_holds_no_torch_objects(fitted):
    clf, _ = fitted
    state = clf.__getstate__()
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
    clf, X_te = fitted
    buf = io.BytesIO()
    with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"):
        pickle.dump(clf, buf)
    clf_cuda = pickle.loads(buf.getvalue())
    with mock.patch("torch.cuda.is_available", return_value=False):
        loaded = pickle.loads(buf.getvalue())
    np.testing.assert_array_equal(loaded.predict_proba(X_te), clf.predict_proba(X_te))
    np.testing.assert_array_equal(clf_cuda.predict(X_te), clf.predict(X_te))
    assert loaded._core_device().type == "cpu"


def test_model_recorded_on_cuda_predicts_on_cpu(fitted):
    clf, X_te = fitted
    state = clf.__getstate__()
    state["device_"] = "cuda:0"
    state["device"] = "cuda"
    clone = FFClassifier.__new__(FFClassifier)
    clone.__setstate__(state)
    np.testing.assert_array_equal(clone.predict(X_te), clf.predict(X_te))


def test_skops_with_only_skff_types_trusted(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    clf, X_te = fitted
    path = tmp_path / "ff.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["skff._classifier.FFClassifier"]
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X_te), clf.predict_proba(X_te))


def test_old_state_format_gives_clear_error(fitted):
    clf, _ = fitted
    state = clf.__getstate__()
    state["_skff_state_format"] = 0
    state["_skff_version"] = "0.0.1"
    with pytest.raises(ModelFormatError, match=r"skff 0\.0\.1.*" + skff.__version__):
        FFClassifier.__new__(FFClassifier).__setstate__(state)


def test_parameter_added_after_saving_takes_its_default(fitted):
    # a model saved before `precision` existed (same state format)
    clf, X_te = fitted
    state = clf.__getstate__()
    del state["precision"]
    loaded = FFClassifier.__new__(FFClassifier)
    loaded.__setstate__(state)
    assert loaded.get_params()["precision"] == "float32"
    assert "precision" not in state
    np.testing.assert_array_equal(loaded.predict_proba(X_te), clf.predict_proba(X_te))
    assert skff.FFClassifier(**loaded.get_params()).get_params() == clf.get_params()


def test_model_saved_before_n_negatives_keeps_one_negative(fitted):
    """n_negatives did not exist: such a model trained, and goes on training,
    with one negative per positive, whatever the current default."""
    clf, _ = fitted
    state = clf.__getstate__()
    del state["n_negatives"]
    loaded = FFClassifier.__new__(FFClassifier)
    loaded.__setstate__(state)
    assert loaded.n_negatives == 1


def test_loaded_model_keeps_training(fitted, small_digits):
    clf, X_te = fitted
    X_tr, _, y_tr, y_te = small_digits
    loaded = pickle.loads(pickle.dumps(clf))
    loaded.partial_fit(X_tr, y_tr)
    assert len(loaded.loss_curve_) == len(clf.loss_curve_) + 1
