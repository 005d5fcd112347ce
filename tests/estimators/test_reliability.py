"""Reliability under conditions the rest of the suite avoids: several torch
threads, interrupts, huge sizes, concurrent prediction."""

import numpy as np
import pytest
import torch

from skff import FFClassifier, FFLanguageModel, FFRecurrentClassifier

rng = np.random.RandomState(0)
X = rng.rand(300, 64)
y = (X[:, 0] + X[:, 1] > 1).astype(int) + 2 * (X[:, 2] > 0.5)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    "est",
    [
        # wide enough layers for torch to split the label columns' gradient
        # over threads (its scatter-add was not deterministic then)
        FFClassifier(hidden_size=500, max_iter=2),
        FFRecurrentClassifier(max_iter=1),
    ],
    ids=lambda e: type(e).__name__,
)
def test_refits_are_bit_identical_with_two_threads(est, two_threads):
    a = est.set_params(random_state=0).fit(X, y).predict_proba(X)
    b = est.set_params(random_state=0).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_language_model_refits_are_bit_identical_with_two_threads(two_threads):
    docs = ["the cat sat on the mat. " * 10, "a dog ran to the log. " * 10]
    lm = FFLanguageModel(context_size=3, hidden_size=64, max_iter=2, random_state=0)
    a = lm.fit(docs).predict_log_proba(["the ca"])
    b = lm.fit(docs).predict_log_proba(["the ca"])
    np.testing.assert_array_equal(a, b)
