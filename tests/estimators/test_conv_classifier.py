"""FFConvClassifier: behaviour of its own (the concerns shared by every
estimator, such as persistence and the contract, are tested across them)."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from skff import FFClassifier, FFConvClassifier
from skff.core import ChannelwiseConvNet


def make_motifs(n=1200, length=64, seed=0):
    """1-D signals whose class is a short motif at a random position in noise:
    what a convolution sees wherever it is, and a dense layer must learn at
    every position."""
    rng = np.random.RandomState(seed)
    motifs = np.array([[1, 1, -1, -1], [-1, -1, 1, 1], [1, -1, 1, -1]], float)
    y = rng.randint(0, 3, n)
    X = rng.normal(scale=0.3, size=(n, length))
    pos = rng.randint(0, length - 4, n)
    for i in range(n):
        X[i, pos[i] : pos[i] + 4] += 2 * motifs[y[i]]
    return X, y


@pytest.mark.parametrize("normalization", ["batch", "sample"])
def test_digits_as_images(digits_split, normalization):
    X_tr, X_te, y_tr, y_te = digits_split
    clf = FFConvClassifier(
        input_shape=(1, 8, 8),
        channels=(32, 64),
        normalization=normalization,
        batch_size=50,
        max_iter=30,
        random_state=0,
    ).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.97
    # batch normalization ends every block, or no block
    has_norm = [layer.norm is not None for layer in clf.core_.layers]
    assert has_norm == [normalization == "batch"] * 2
    blocks = clf.block_scores(X_te)
    assert blocks.shape == (2, len(X_te), 10)
    # the deeper block alone is a good classifier too
    assert (clf.classes_[blocks[1].argmax(axis=1)] == y_te).mean() > 0.9


def test_convolution_finds_a_motif_anywhere():
    X, y = make_motifs()
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    conv = FFConvClassifier(
        channels=(12, 24), learning_rate_init=0.01, max_iter=20, random_state=0
    ).fit(X_tr, y_tr)
    dense = FFClassifier(max_iter=20, random_state=0).fit(X_tr, y_tr)
    assert conv.score(X_te, y_te) > 0.97
    assert conv.score(X_te, y_te) > dense.score(X_te, y_te) + 0.1


def test_label_in_the_input_learns(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = FFConvClassifier(
        input_shape=(1, 8, 8),
        channels=(16, 32),
        label_mode="input",
        learning_rate_init=0.003,
        max_iter=30,
        random_state=0,
    ).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.85


@pytest.mark.parametrize("shape", [(1, 8, 9), (64,), (2, 4, 4, 2), (1, 0, 64)])
def test_input_shape_must_hold_the_features(small_digits, shape):
    X_tr, _, y_tr, _ = small_digits
    clf = FFConvClassifier(input_shape=shape, channels=(10,), max_iter=1)
    with pytest.raises(ValueError, match="input_shape"):
        clf.fit(X_tr, y_tr)
    assert not hasattr(clf, "core_")


def test_too_few_channels_for_the_classes(small_digits):
    X_tr, _, y_tr, _ = small_digits
    with pytest.raises(ValueError, match="n_classes=10"):
        FFConvClassifier(channels=(4,), max_iter=1).fit(X_tr, y_tr)


def test_short_signals_and_single_pixels():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 3)
    y = (X[:, 0] > 0.5).astype(int)
    for shape in [None, (3, 1), (1, 1, 3), (3, 1, 1)]:
        clf = FFConvClassifier(input_shape=shape, channels=(4, 4, 4), max_iter=2)
        assert clf.fit(X, y).predict(X).shape == (60,)


def test_batch_normalization_predicts_each_row_on_its_own(small_digits):
    # prediction reads the running averages of the batch statistics: a
    # row's probabilities do not depend on the rows predicted with it
    X_tr, X_te, y_tr, _ = small_digits
    clf = FFConvClassifier(
        input_shape=(1, 8, 8), channels=(16, 32), max_iter=3, random_state=0
    ).fit(X_tr, y_tr)
    norm = clf.core_.layers[0].norm
    assert not np.allclose(norm.running_var.numpy(), 1.0)
    proba = clf.predict_proba(X_te)
    np.testing.assert_allclose(clf.predict_proba(X_te[:1]), proba[:1], rtol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X_te[::-1])[::-1], proba, rtol=1e-5)


def test_early_stopping_scores_as_prediction_does(small_digits, monkeypatch):
    # the held-out rows are scored in evaluation mode: with the running
    # averages, which scoring them leaves alone
    X_tr, _, y_tr, _ = small_digits
    training = []
    score = FFConvClassifier._validation_score

    def spy(self, core, *args, **kwargs):
        training.append(any(module.training for module in core.modules()))
        return score(self, core, *args, **kwargs)

    monkeypatch.setattr(FFConvClassifier, "_validation_score", spy)
    clf = FFConvClassifier(
        input_shape=(1, 8, 8),
        channels=(16,),
        max_iter=3,
        early_stopping=True,
        random_state=0,
    ).fit(X_tr, y_tr)
    assert training == [False, False, False]
    assert clf.core_.training is False


def test_residual_blocks_on_digits(digits_split):
    """Residual blocks (two per resolution, group normalization, mean
    goodness) learn the digits as the plain blocks do."""
    X_tr, X_te, y_tr, y_te = digits_split
    clf = FFConvClassifier(
        input_shape=(1, 8, 8),
        channels=(20, 20, 40, 40),
        pooling_schedule="stage",
        shortcut="add",
        normalization="group",
        goodness_power=1,
        batch_size=50,
        max_iter=20,
        random_state=0,
    ).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.95
    assert [layer.pool_kernel is not None for layer in clf.core_.layers] == [
        False,
        True,
        False,
        True,
    ]
    assert clf.core_.shortcut == "add"


@pytest.mark.parametrize(
    "kwargs", [dict(normalization="group"), dict(goodness_power=1)]
)
def test_class_group_settings_need_channelwise_labels(small_digits, kwargs):
    X, _, y, _ = small_digits
    with pytest.raises(ValueError, match="label_mode='channelwise'"):
        FFConvClassifier(
            input_shape=(1, 8, 8), label_mode="input", max_iter=1, **kwargs
        ).fit(X, y)
    with pytest.raises(ValueError, match="goodness_power"):
        FFConvClassifier(input_shape=(1, 8, 8), goodness_power=True).fit(X, y)


def test_the_default_batch_and_epochs_scale_with_the_data(small_digits, step_rows):
    """batch_size="auto": n_rows // 20 within [50, 100], so that from 1,000
    rows every epoch takes at least 20 steps; max_iter=None: 20 epochs."""
    default = FFConvClassifier()
    sizes = (15, 300, 1_258, 1_999, 2_000, 52_200)
    assert [default._batch_rows(n) for n in sizes] == [15, 50, 62, 99, 100, 100]
    assert {default._n_epochs(n) for n in sizes} == {20}
    assert FFConvClassifier(batch_size=7)._n_epochs(1_258) == 20
    assert FFConvClassifier(max_iter=3, batch_size=7)._batch_rows(1_258) == 7
    X_tr, _, y_tr, _ = small_digits
    rows = step_rows(ChannelwiseConvNet)
    clf = FFConvClassifier(
        input_shape=(1, 8, 8), channels=(10, 10), calibrate=False, random_state=0
    ).fit(X_tr, y_tr)
    assert clf.n_iter_ == 20 == len(clf.loss_curve_)
    assert rows == [50] * 6 * 20  # 300 rows: 6 steps of 50 rows per epoch
