"""FFClassifier: accuracy on real data, the algorithm's guarantees, fitting modes."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from conftest import SPECS
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss

from skff import DivergenceError, FFClassifier
from skff.core import FFNet

FAST = SPECS["FFClassifier"].settings(hidden_size=64, max_iter=15)


def test_digits_default_accuracy(digits_split):
    """Acceptance: the default FFClassifier reaches >= 97% on digits (70/30)."""
    X_tr, X_te, y_tr, y_te = digits_split
    clf = FFClassifier(random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) >= 0.97
    # max_iter=None, batch_size="auto": 30 epochs of batches of 50 for 1,257
    # rows
    assert clf.n_iter_ == 30 == len(clf.loss_curve_)
    # every layer learned to separate positive from negative data
    first, last = np.array(clf.loss_curve_[0]), np.array(clf.loss_curve_[-1])
    assert np.all(last[:-1] < 0.5 * first[:-1])


@pytest.mark.parametrize(
    "params",
    [
        dict(readout="softmax"),
        dict(readout="both", negatives="uniform"),
        dict(peer_normalization=0.03, readout_skip_first=True, learning_rate="linear"),
        dict(loss="logistic", learning_rate_init=0.03, max_iter=30),
        dict(goodness="sum", loss="logistic", threshold=64.0, max_iter=30),
        dict(label_injection="overlay", negatives="hardest", max_iter=30),
    ],
)
def test_variants_learn(small_digits, params):
    """Every loss, goodness, label injection, negative strategy and readout
    learns digits from 300 samples (chance is 10%)."""
    X_tr, X_te, y_tr, y_te = small_digits
    clf = FFClassifier(**{**FAST, **params}, random_state=0).fit(X_tr, y_tr)
    assert clf.score(X_te, y_te) > 0.8


def test_predict_proba_is_a_distribution(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    for readout in ("goodness", "softmax", "both"):
        clf = FFClassifier(**FAST, readout=readout, random_state=0).fit(X_tr, y_tr)
        proba = clf.predict_proba(X_te)
        assert proba.shape == (len(X_te), 10)
        assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
        np.testing.assert_array_equal(
            clf.predict(X_te), clf.classes_[proba.argmax(axis=1)]
        )
        np.testing.assert_allclose(
            np.exp(clf.predict_log_proba(X_te)), proba, rtol=1e-12
        )


def test_string_labels_and_classes(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    names = np.array([f"digit-{d}" for d in range(10)])
    clf = FFClassifier(**FAST, random_state=0).fit(X_tr, names[y_tr])
    np.testing.assert_array_equal(clf.classes_, np.sort(names))
    assert set(clf.predict(X_te)) <= set(names)


def test_refit_is_bit_identical(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    a = FFClassifier(**FAST, random_state=3).fit(X_tr, y_tr)
    b = FFClassifier(**FAST, random_state=3).fit(X_tr, y_tr)
    np.testing.assert_array_equal(a.predict_proba(X_te), b.predict_proba(X_te))
    assert a.loss_curve_ == b.loss_curve_
    c = FFClassifier(**FAST, random_state=4).fit(X_tr, y_tr)
    assert not np.array_equal(a.predict_proba(X_te), c.predict_proba(X_te))


def test_no_global_rng_touched(small_digits):
    X_tr, _, y_tr, _ = small_digits
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    FFClassifier(**FAST, random_state=0).fit(X_tr, y_tr)
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)


def test_sparse_input_matches_dense(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    dense = FFClassifier(**FAST, random_state=0).fit(X_tr, y_tr)
    for fmt in ("csr", "csc", "coo"):
        sparse = FFClassifier(**FAST, random_state=0).fit(
            sp.random(1, 1).asformat(fmt).__class__(X_tr), y_tr
        )
        np.testing.assert_allclose(
            sparse.predict_proba(sp.csr_matrix(X_te)),
            dense.predict_proba(X_te),
            rtol=1e-6,
            atol=1e-9,
        )


def test_dataframe_feature_names(small_digits):
    pd = pytest.importorskip("pandas")
    X_tr, X_te, y_tr, _ = small_digits
    cols = [f"px{i}" for i in range(X_tr.shape[1])]
    clf = FFClassifier(**FAST, random_state=0).fit(
        pd.DataFrame(X_tr, columns=cols), y_tr
    )
    np.testing.assert_array_equal(clf.feature_names_in_, cols)
    assert clf.predict(pd.DataFrame(X_te, columns=cols)).shape == (len(X_te),)


def test_partial_fit_epochs(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = FFClassifier(**FAST, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X_tr, y_tr)
    for _ in range(15):
        clf.partial_fit(X_tr, y_tr, classes=np.arange(10))
    assert clf.n_iter_ == 15 and len(clf.loss_curve_) == 15
    assert clf.score(X_te, y_te) > 0.75
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X_tr, y_tr + 20)


def test_partial_fit_classes_not_yet_seen(small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    clf = FFClassifier(**FAST, random_state=0)
    clf.partial_fit(X_tr[y_tr < 5], y_tr[y_tr < 5], classes=np.arange(10))
    assert clf.predict_proba(X_te).shape == (len(X_te), 10)


def test_warm_start_continues(small_digits):
    X_tr, _, y_tr, _ = small_digits
    clf = FFClassifier(**{**FAST, "max_iter": 3}, warm_start=True, random_state=0)
    clf.fit(X_tr, y_tr)
    core = clf.core_
    clf.fit(X_tr, y_tr)
    assert clf.core_ is core
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 6
    clf.set_params(hidden_size=32)
    with pytest.raises(ValueError, match="hidden_size changed"):
        clf.fit(X_tr, y_tr)
    # without warm_start, fit starts over
    cold = FFClassifier(**{**FAST, "max_iter": 3}, random_state=0).fit(X_tr, y_tr)
    cold.fit(X_tr, y_tr)
    assert len(cold.loss_curve_) == 3


def test_early_stopping(small_digits):
    X_tr, _, y_tr, _ = small_digits
    clf = FFClassifier(
        **{**FAST, "max_iter": 200},
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
    ).fit(X_tr, y_tr)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_validation_score_ > 0.75


def test_verbose_progress(small_digits, capsys):
    X_tr, _, y_tr, _ = small_digits
    FFClassifier(**{**FAST, "max_iter": 2}, verbose=1, random_state=0).fit(X_tr, y_tr)
    err = capsys.readouterr().err
    assert "FFClassifier" in err and "layer 0=" in err and "head=" in err


def test_divergence_names_layer_and_keeps_weights(small_digits):
    X_tr, _, y_tr, _ = small_digits
    clf = FFClassifier(**{**FAST, "max_iter": 2}, random_state=0).fit(X_tr, y_tr)
    before = {k: v.clone() for k, v in clf.core_.state_dict().items()}
    # a label strength whose squared activities overflow float32
    clf.set_params(warm_start=True, label_strength=1e25)
    with pytest.raises(
        DivergenceError, match=r"diverged in layer 0 at epoch 1.*learning_rate_init"
    ):
        clf.fit(X_tr, y_tr)
    after = clf.core_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert clf.n_iter_ == 0 and len(clf.loss_curve_) == 2


def test_keyboard_interrupt_leaves_usable_model(small_digits, monkeypatch):
    X_tr, X_te, y_tr, _ = small_digits
    calls = {"n": 0}
    original = FFNet.train_step

    def interrupting(self, x, y, generator=None):
        calls["n"] += 1
        if calls["n"] == 13:  # during the third epoch (6 batches each)
            raise KeyboardInterrupt
        return original(self, x, y, generator)

    monkeypatch.setattr(FFNet, "train_step", interrupting)
    clf = FFClassifier(**FAST, random_state=0)
    with pytest.warns(UserWarning, match="interrupted after 2 epoch"):
        with pytest.raises(KeyboardInterrupt):  # raised again: a search stops
            clf.fit(X_tr, y_tr)
    assert clf.n_iter_ == 2
    assert clf.predict(X_te).shape == (len(X_te),)


def test_both_readout_is_the_geometric_mean(small_digits):
    """readout="both" renormalizes the mean of the two log-probabilities: the
    product's ranking, with calibrated (not doubly confident) probabilities."""
    from scipy.special import log_softmax

    X_tr, X_te, y_tr, y_te = small_digits
    clf = FFClassifier(**FAST, random_state=0).fit(X_tr, y_tr)
    good = clf.set_params(readout="goodness").predict_log_proba(X_te)
    head = clf.set_params(readout="softmax").predict_log_proba(X_te)
    both = clf.set_params(readout="both").predict_log_proba(X_te)
    np.testing.assert_allclose(both, log_softmax((good + head) / 2, axis=1))
    np.testing.assert_array_equal(both.argmax(1), (good + head).argmax(1))
    rows = np.arange(len(y_te))
    nll = {
        name: -lp[rows, y_te].mean()
        for name, lp in [("both", both), ("product", log_softmax(good + head, 1))]
    }
    assert nll["both"] < nll["product"]


@pytest.mark.parametrize(
    "n_negatives, n_classes, used", [(3, 10, 3), (20, 10, 9), (20, 2, 1)]
)
def test_several_negatives_learn(
    small_digits, training_spy, n_negatives, n_classes, used
):
    """Several wrong labels per positive learn as well; more than
    n_classes - 1 are capped (every wrong label once)."""
    X_tr, X_te, y_tr, y_te = small_digits
    train, test = y_tr < n_classes, y_te < n_classes
    record = training_spy(FFNet)
    clf = FFClassifier(**FAST, n_negatives=n_negatives, random_state=0)
    clf.fit(X_tr[train], y_tr[train])
    assert {len(y_neg) / len(y) for y, y_neg in record["negatives"]} == {used}
    assert clf.score(X_te[test], y_te[test]) > 0.8


def test_warnings_free_fit(small_digits):
    X_tr, _, y_tr, _ = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FFClassifier(**FAST, random_state=0).fit(X_tr, y_tr)


def test_out_of_memory_names_the_parameter(small_digits, monkeypatch):
    X_tr, _, y_tr, _ = small_digits

    def oom(self, x, y, generator=None):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 8 GiB")

    monkeypatch.setattr(FFNet, "train_step", oom)
    with pytest.raises(MemoryError, match="Lower batch_size"):
        FFClassifier(**FAST, random_state=0).fit(X_tr, y_tr)


def test_the_default_epoch_budget_scales_with_the_data(monkeypatch):
    """max_iter=None runs ceil(budget / n_rows) epochs within [min, max]:
    here a budget of 1,000 rows seen, 2 to 6 epochs, and at most the steps
    of 6 epochs of batches of 50 rows. The defaults: 30 to 40 epochs below
    2,500 rows (the step cap), at most 30 from 2,500 rows on."""
    default = FFClassifier()
    budget = [default._n_epochs(n) for n in (60, 120, 880, 2_499, 2_500, 5_000)]
    assert budget == [30, 40, 30, 30, 30, 30]
    budget = [default._n_epochs(n) for n in (30_000, 45_000, 60_000, 10**6)]
    assert budget == [30, 20, 15, 15]
    assert FFClassifier(batch_size=32)._n_epochs(1000) == 60
    assert FFClassifier(batch_size=32)._n_epochs(5000) == 30
    monkeypatch.setattr(FFClassifier, "_ROWS_SEEN", 1000)
    monkeypatch.setattr(FFClassifier, "_MIN_EPOCHS", 2)
    monkeypatch.setattr(FFClassifier, "_MAX_EPOCHS", 6)
    monkeypatch.setattr(FFClassifier, "_STEP_BATCH", 50)
    rng = np.random.RandomState(0)
    params = dict(hidden_size=8, batch_size=50, random_state=0, device="cpu")
    for n_rows, epochs in [(100, 6), (250, 4), (400, 3), (2000, 2)]:
        X, y = rng.rand(n_rows, 5), np.arange(n_rows) % 2
        assert FFClassifier(**params).fit(X, y).n_iter_ == epochs
    # the held-out rows of early stopping are not training rows: 400 x 0.5
    clf = FFClassifier(
        **params, early_stopping=True, validation_fraction=0.5, n_iter_no_change=9
    )
    assert clf.fit(X[:400], y[:400]).n_iter_ == 5
    # auto batches smaller than 50 rows: at most the steps of 6 epochs of
    # batches of 50 (12 steps for 100 rows), at least 2 epochs; an explicit
    # batch size is not capped
    monkeypatch.setattr(FFClassifier, "_ROWS_PER_BATCH", 1000)
    auto = dict(params, batch_size="auto")
    for smallest, epochs in [(25, 3), (20, 3), (10, 2), (1, 2), (50, 6)]:
        monkeypatch.setattr(FFClassifier, "_MIN_BATCH", smallest)
        assert FFClassifier(**auto)._n_epochs(100) == epochs
    monkeypatch.setattr(FFClassifier, "_MIN_BATCH", 25)
    assert FFClassifier(**auto).fit(X[:100], y[:100]).n_iter_ == 3
    assert FFClassifier(**{**params, "batch_size": 25})._n_epochs(100) == 6
    # an explicit max_iter wins; partial_fit is one epoch
    assert FFClassifier(**params, max_iter=7).fit(X, y).n_iter_ == 7
    assert FFClassifier(**params).partial_fit(X, y, classes=[0, 1]).n_iter_ == 1


def test_the_auto_batch_size_scales_with_the_data(step_rows):
    """batch_size="auto" trains in batches of n_rows // 50 rows within
    [50, 200] (clipped to the rows); an int is used as given."""
    assert [
        FFClassifier()._batch_rows(n) for n in (60, 1000, 5000, 7500, 10_000, 60_000)
    ] == [50, 50, 100, 150, 200, 200]
    assert FFClassifier()._batch_rows(30) == 30
    assert FFClassifier(batch_size=32)._batch_rows(60_000) == 32
    sizes = step_rows(FFNet)
    rng = np.random.RandomState(0)
    X, y = rng.rand(7600, 3), np.arange(7600) % 2
    params = dict(hidden_size=4, max_iter=1, calibrate=False, random_state=0)
    FFClassifier(**params).fit(X, y)
    assert sizes[:50] == [152] * 50 and sizes[50:] == []
    sizes.clear()
    FFClassifier(**params).fit(X[:250], y[:250])
    assert sizes == [50] * 5
    sizes.clear()
    FFClassifier(**params).fit(X[:4000], y[:4000])
    assert sizes == [80] * 50


def test_calibrate_holds_out_rows_for_the_temperatures(monkeypatch, step_rows):
    """calibrate="auto" holds out validation_fraction of the rows (from
    _CALIBRATION_ROWS rows on; 10,000 by default) to fit the temperatures
    after training, without scoring epochs or stopping early; the other rows
    train. Below that every row trains and one more network, trained on
    half of the rows, fits the temperatures (cross-fitting). The
    temperatures soften the probabilities and keep every prediction."""
    monkeypatch.setattr(FFClassifier, "_CALIBRATION_ROWS", 400)
    assert FFClassifier._CALIBRATION_ROWS == 400
    rows = step_rows(FFNet)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    params = dict(hidden_size=32, max_iter=4, batch_size=50, random_state=0)
    for n_rows, held_out in [(399, False), (400, True)]:
        rows.clear()
        clf = FFClassifier(**params).fit(X[:n_rows], y[:n_rows])
        assert clf.temperatures_ is not None
        trained = n_rows - (40 if held_out else 0)
        # the main network's 4 epochs of batches of 50 come first; then the
        # cross-fitted network's 4 epochs on half of the rows
        main = 4 * -(-trained // 50)
        assert sum(rows[:main]) == 4 * trained
        halves = (0,) if held_out else (4 * (trained // 2), 4 * -(-trained // 2))
        assert sum(rows[main:]) in halves
        assert clf.validation_scores_ is None and clf.n_iter_ == 4
    # True and False override the size; early stopping holds out rows anyway
    assert FFClassifier(**params, calibrate=True).fit(X[:100], y[:100]).temperatures_
    assert FFClassifier(**params, calibrate=False).fit(X, y).temperatures_ is None
    clf = FFClassifier(**params, calibrate=False, early_stopping=True).fit(X, y)
    assert clf.temperatures_ is not None and len(clf.validation_scores_) == 4
    # on unseen rows the temperatures lower the log-loss of an over-confident
    # net, and change no prediction
    clf = FFClassifier(**{**params, "max_iter": 30}).fit(X[:1200], y[:1200])
    assert 0 < clf.temperatures_["both"] < 1
    calibrated = clf.predict_proba(X[1200:])
    temperatures, clf.temperatures_ = clf.temperatures_, None
    raw = clf.predict_proba(X[1200:])
    clf.temperatures_ = temperatures
    np.testing.assert_array_equal(calibrated.argmax(1), raw.argmax(1))
    assert log_loss(y[1200:], calibrated) < 0.9 * log_loss(y[1200:], raw)
    # at most _CALIBRATION_HELD_OUT rows (2,000 by default) for the
    # temperatures alone; early stopping holds out validation_fraction
    monkeypatch.setattr(FFClassifier, "_CALIBRATION_HELD_OUT", 25)
    rows.clear()
    FFClassifier(**params).fit(X[:400], y[:400])
    assert sum(rows) == 4 * 375
    rows.clear()
    FFClassifier(**params, early_stopping=True, n_iter_no_change=9).fit(
        X[:400], y[:400]
    )
    assert sum(rows) == 4 * 360


def test_rows_that_cant_be_held_out(monkeypatch):
    """calibrate="auto" trains on every row when the held-out rows can't
    cover every class (a class of one row, or fewer held-out rows than
    classes); calibrate=True and early stopping say why instead of failing
    inside the split. partial_fit holds nothing out and scores nothing."""
    # a whole number of rows: 2,000 of 20,012 (a share of them rounds up to
    # 2,001), and validation_fraction of them with early stopping
    assert FFClassifier()._n_held_out(20_012) == 2_000
    assert FFClassifier(early_stopping=True)._n_held_out(20_012) == 2_002
    monkeypatch.setattr(FFClassifier, "_CALIBRATION_ROWS", 50)
    rng = np.random.RandomState(0)
    params = dict(hidden_size=8, max_iter=2, random_state=0, device="cpu")
    X, y = rng.rand(61, 4), np.r_[np.arange(60) % 3, 3]  # class 3: one row
    assert FFClassifier(**params).fit(X, y).temperatures_ is None
    for setting, name in [
        (dict(calibrate=True), "calibrate"),
        (dict(early_stopping=True), "early_stopping"),
    ]:
        with pytest.raises(ValueError, match=f"{name}=True.*class 3 has a single"):
            FFClassifier(**params, **setting).fit(X, y)
    X, y = rng.rand(80, 4), np.arange(80) % 40  # 40 classes, 8 rows held out
    assert FFClassifier(**params).fit(X, y).temperatures_ is None
    with pytest.raises(ValueError, match="8 held-out rows of 80 can't hold a row"):
        FFClassifier(**params, calibrate=True).fit(X, y)
    with pytest.raises(ValueError, match="the 4 rows left to train.*smaller valid"):
        FFClassifier(**params, early_stopping=True, validation_fraction=0.95).fit(X, y)
    # labels as Python objects (a pandas string column)
    X, y = rng.rand(61, 4), np.array(["a", "b", "c"] * 20 + ["z"], dtype=object)
    assert FFClassifier(**params).fit(X, y).temperatures_ is None
    with pytest.raises(ValueError, match="class 'z' has a single row.*rows of"):
        FFClassifier(**params, calibrate=True, early_stopping=True).fit(X, y)
    clf = FFClassifier(**params, early_stopping=True)
    assert clf.partial_fit(X, y, classes=np.unique(y)).validation_scores_ is None
