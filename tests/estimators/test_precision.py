"""precision="bf16": bfloat16 autocast for the layers, float32 state."""

import numpy as np
import pytest
import torch
from conftest import each_estimator

from skff import FFClassifier, FFLanguageModel, FFRecurrentClassifier
from skff.datasets import make_aesop_strings


@each_estimator()
def test_bf16_keeps_float32_state_and_changes_only_the_arithmetic(spec):
    """Every estimator: the same initial weights and data order, so the first
    epoch's losses agree to bf16 accuracy; the weights stay float32, the
    outputs finite and (bf16 rounding) not bit-identical to float32's."""
    # no cross-fitted temperatures: three networks where one says it all
    params = {"calibrate": False} if "calibrate" in spec.supports else {}
    f32 = spec.fit(spec.make(**params))
    b16 = spec.fit(spec.make(precision="bf16", **params))
    assert all(p.dtype == torch.float32 for p in b16.core_.parameters())
    np.testing.assert_allclose(b16.loss_curve_[0], f32.loss_curve_[0], rtol=0.1)
    out = spec.outputs(b16)
    assert np.all(np.isfinite(out))
    assert not np.array_equal(out, spec.outputs(f32))


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
CLASSIFIERS = [
    FFClassifier(hidden_size=64, max_iter=15, random_state=0),
    FFRecurrentClassifier(hidden_size=64, max_iter=15, random_state=0),
]


@pytest.mark.parametrize("est", CLASSIFIERS, ids=lambda e: type(e).__name__)
def test_bf16_classifiers_learn_and_keep_float32_state(est, small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = est.set_params(precision="bf16", device="cpu").fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.75  # chance is 0.1; float32: 0.92, 0.82
    proba = clf.predict_proba(X_te)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert all(p.dtype == torch.float32 for p in clf.core_.parameters())
    assert np.all(np.isfinite(clf.loss_curve_))


def test_bf16_language_model():
    docs = make_aesop_strings(n_strings=40, random_state=0)
    lm = FFLanguageModel(
        hidden_size=64, max_iter=2, precision="bf16", device="cpu", random_state=0
    ).fit(docs)
    ppl = lm.perplexity(docs[:5])
    assert np.isfinite(ppl) and ppl < len(lm.classes_) / 2
    assert isinstance(lm.generate(docs[0][:12], n_chars=5, random_state=0), str)


@cuda
def test_bf16_on_cuda(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = FFClassifier(hidden_size=64, max_iter=15, precision="bf16", device="cuda")
    assert clf.fit(X_tr, y_tr).score(X_te, y_te) > 0.8
