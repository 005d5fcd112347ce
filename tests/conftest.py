"""Test configuration: one torch thread (small nets run ~10x faster on 2 cores)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


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
