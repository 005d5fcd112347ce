"""FFTransformer: its output and what it learns (the negative rows its core
makes: tests/core/test_unsupervised_core.py)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from conftest import SPECS
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skff import FFTransformer

rng = np.random.RandomState(0)
X = rng.rand(40, 12)  # every value distinct: each one names its row
FAST = SPECS["FFTransformer"].settings(batch_size=16)


def test_fit_is_deterministic_under_random_state():
    a = FFTransformer(**FAST, random_state=0).fit(X).transform(X)
    b = FFTransformer(**FAST, random_state=0).fit(X).transform(X)
    c = FFTransformer(**FAST, random_state=1).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "n_layers, output_layers, layers",
    [(2, None, [0, 1]), (1, None, [0]), (3, None, [0, 1, 2]), (3, [2, 0], [2, 0])],
)
def test_output_layers_and_feature_names(n_layers, output_layers, layers):
    ff = FFTransformer(
        **{**FAST, "n_layers": n_layers}, output_layers=output_layers, random_state=0
    ).fit(X)
    assert ff.core_.output_layers == layers
    Z = ff.transform(X)
    assert Z.shape == (len(X), 16 * len(layers))
    names = ff.get_feature_names_out()
    assert list(names) == [f"fftransformer{i}" for i in range(Z.shape[1])]
    # each output layer's block is layer-normalized: zero mean, unit RMS
    for k in range(len(layers)):
        block = Z[:, 16 * k : 16 * (k + 1)]
        np.testing.assert_allclose(block.mean(axis=1), 0, atol=1e-5)
        np.testing.assert_allclose(np.sqrt((block**2).mean(axis=1)), 1, rtol=1e-4)


@pytest.mark.parametrize("output_layers", [[2], [-1], [0, 0], [], [0.5]])
def test_bad_output_layers_raise(output_layers):
    with pytest.raises(ValueError, match="output_layers"):
        FFTransformer(**FAST, output_layers=output_layers).fit(X)


def test_bad_input_shape_raises():
    with pytest.raises(ValueError, match="input_shape"):
        FFTransformer(**FAST, input_shape=(1, 5, 5)).fit(X)


def test_pandas_output():
    pd = pytest.importorskip("pandas")
    ff = FFTransformer(**FAST, random_state=0).set_output(transform="pandas")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    out = ff.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(ff.get_feature_names_out())
    assert list(ff.feature_names_in_) == list(df.columns)
    np.testing.assert_array_equal(out.to_numpy(), ff.transform(df))


def test_sparse_input_transforms_like_dense():
    ff = FFTransformer(**FAST, random_state=0).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(ff.transform(sp.csr_matrix(X)), ff.transform(X))


def test_dtype_is_preserved():
    ff = FFTransformer(**FAST, random_state=0).fit(X)
    assert ff.transform(X).dtype == np.float64
    assert ff.transform(X.astype(np.float32)).dtype == np.float32


def test_partial_fit_and_early_stopping():
    ff = FFTransformer(**FAST, random_state=0)
    for _ in range(3):
        ff.partial_fit(X)
    assert ff.n_iter_ == 3
    assert all(len(epoch) == 2 for epoch in ff.loss_curve_)  # one loss per layer
    es = FFTransformer(
        **{**FAST, "max_iter": 30},
        early_stopping=True,
        n_iter_no_change=2,
        random_state=0,
    ).fit(X)
    assert len(es.validation_scores_) == es.n_iter_
    assert es.best_validation_score_ == max(es.validation_scores_)


# -- what it learns -------------------------------------------------------------------
# measured on these settings: 0.755, 0.925, 0.900 (hybrid digits, two 8x8
# images mixed through blobs, are the hardest to tell from real ones)
SEPARATED = {"hybrid": 0.65, "self_contrastive": 0.85, "corrupt": 0.8}


@pytest.mark.parametrize("kind", sorted(SEPARATED))
def test_real_rows_have_more_goodness_than_their_negatives(kind, small_digits):
    X_tr, X_te, _, _ = small_digits
    ff = FFTransformer(
        n_layers=2,
        hidden_size=64,
        negatives=kind,
        goodness="sum",
        input_normalization="center",  # negatives in input space are then rows
        learning_rate_init=0.01,
        max_iter=10,
        random_state=0,
        device="cpu",
    ).fit(X_tr)
    core = ff.core_
    # the core's passes center rows on the training mean first
    xt = torch.as_tensor(X_te - ff.mean_, dtype=torch.float32)
    with torch.no_grad():
        neg = core.negative(xt, torch.Generator().manual_seed(0))
        g_neg = core.layer_goodness(neg).sum(dim=1).numpy()
    g_real = ff.score_samples(X_te)
    np.testing.assert_allclose(
        g_real, core.layer_goodness(core.positive(xt)).sum(dim=1).detach(), rtol=1e-5
    )
    assert (g_real > g_neg).mean() > SEPARATED[kind]
    if kind != "self_contrastive":  # negatives in input space: score them directly
        raw = neg.numpy() + ff.mean_  # back from centered rows
        np.testing.assert_allclose(ff.score_samples(raw), g_neg, rtol=1e-4, atol=1e-4)


def test_digits_pipeline_beats_raw_pixels(digits_split):
    """Measured on this split: raw-pixel LogisticRegression 0.9704; this
    pipeline (the default negatives, one layer of 1,000 units) 0.9815, as
    random ReLU features of the same width (scaled)."""
    X_tr, X_te, y_tr, y_te = digits_split
    pipe = make_pipeline(
        FFTransformer(n_layers=1, hidden_size=1000, random_state=0, device="cpu"),
        LogisticRegression(max_iter=5000),
    )
    assert pipe.fit(X_tr, y_tr).score(X_te, y_te) >= 0.975


def test_rows_are_centered_on_the_training_mean():
    import pickle

    ff = FFTransformer(**FAST, random_state=0).fit(X)
    np.testing.assert_allclose(ff.mean_, X.mean(axis=0))
    np.testing.assert_allclose(ff.core_.input_offset.numpy(), X.mean(axis=0), rtol=1e-6)
    # a warm start or partial_fit continues the same network: the mean stays
    mean = ff.mean_.copy()
    ff.partial_fit(X[:20] + 1.0)
    np.testing.assert_array_equal(ff.mean_, mean)
    # sparse input: the same mean and the same features
    sparse = FFTransformer(**FAST, random_state=0).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.mean_, X.mean(axis=0))
    np.testing.assert_allclose(
        sparse.transform(sp.csr_matrix(X)),
        FFTransformer(**FAST, random_state=0).fit(X).transform(X),
        rtol=1e-5,
        atol=1e-6,
    )
    copy = pickle.loads(pickle.dumps(ff))
    np.testing.assert_array_equal(copy.transform(X), ff.transform(X))


# -- the self-contrastive recipe and convolutional blocks (the parts themselves:
# tests/core/test_self_contrastive.py) ------------------------------------------------
def test_conv_digits_pipeline_beats_raw_pixels(digits_split):
    """Measured on this split: raw pixels 0.9704; two blocks of 16 and 32
    channels at the defaults, 5 epochs, 0.98+."""
    X_tr, X_te, y_tr, y_te = digits_split
    ff = FFTransformer(
        channels=[16, 32], input_shape=(1, 8, 8), max_iter=5, random_state=0
    )
    pipe = make_pipeline(ff, LogisticRegression(max_iter=5000))
    assert pipe.fit(X_tr, y_tr).score(X_te, y_te) >= 0.975
    assert ff.transform(X_te[:3]).shape == (3, 16 * 16 + 32 * 4)
    assert len(ff.get_feature_names_out()) == 16 * 16 + 32 * 4


def test_conv_blocks_read_signals_and_are_deterministic():
    signals = rng.rand(30, 2 * 16)
    kw = dict(channels=[4, 6], input_shape=(2, 16), max_iter=2, batch_size=10)
    a = FFTransformer(**kw, random_state=0).fit(signals).transform(signals)
    b = FFTransformer(**kw, random_state=0).fit(signals).transform(signals)
    c = FFTransformer(**kw, random_state=1).fit(signals).transform(signals)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (30, 4 * 4 + 6 * 4)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(channels=[4]), "input_shape"),
        (dict(channels=[4], input_shape=(3, 4), hidden_layer_sizes=[16]), "both"),
        (dict(channels=[0], input_shape=(3, 4)), "channels"),
        (dict(channels=[4, 2.5], input_shape=(3, 4)), "channels"),
        (dict(channels=[4], input_shape=(3, 4), output_layers=[1]), "output_layers"),
    ],
)
def test_bad_conv_settings_raise_before_fitting(params, match):
    ff = FFTransformer(**FAST, random_state=0).fit(X)
    before = ff.transform(X)
    with pytest.raises(ValueError, match=match):
        ff.set_params(**params).fit(X)
    np.testing.assert_array_equal(ff.transform(X), before)  # nothing lost


def test_greedy_training_reports_layers_in_turn():
    ff = FFTransformer(
        n_layers=2,
        hidden_size=8,
        max_iter=4,
        batch_size=16,
        layer_training="greedy",
        random_state=0,
    ).fit(X)
    curve = np.array(ff.loss_curve_)
    assert (curve[:2, 1] == 0).all()  # layer 1 waits for layer 0
    assert (curve[2:, 1] > 0).all()
    assert ff.n_iter_ == 4


def test_warm_start_keeps_the_blocks_but_takes_new_loss_settings():
    ff = FFTransformer(**FAST, warm_start=True, random_state=0).fit(X)
    ff.set_params(positive_penalty=0.5, loss="logistic", negative_threshold=1.0)
    ff.fit(X)
    assert ff.core_.positive_penalty == 0.5 and ff.core_.negative_threshold == 1.0
    for name, value in [("pair_weights", "separate"), ("activation", "relu")]:
        with pytest.raises(ValueError, match=name):
            FFTransformer(**FAST, warm_start=True, random_state=0).fit(X).set_params(
                **{name: value}
            ).fit(X)
