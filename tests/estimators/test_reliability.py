"""Reliability of every estimator: determinism under random_state, fits that
continue (warm_start, partial_fit), a failed fit that keeps the fitted model;
and conditions the rest of the suite avoids: several torch threads,
interrupts, huge sizes, concurrent prediction."""

import numpy as np
import pytest
import torch
from conftest import SPECS, each_estimator

from skff import FFClassifier, FFLanguageModel, FFRecurrentClassifier

rng = np.random.RandomState(0)
X = rng.rand(300, 64)
y = (X[:, 0] + X[:, 1] > 1).astype(int) + 2 * (X[:, 2] > 0.5)


# -- every estimator: seeds, continued fits, failed fits -----------------------------
@each_estimator()
def test_same_seed_same_model_other_seed_other_model(spec):
    a = spec.outputs(spec.fit(spec.make(random_state=0)))
    b = spec.outputs(spec.fit(spec.make(random_state=0)))
    c = spec.outputs(spec.fit(spec.make(random_state=1)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@each_estimator()
def test_warm_start_continues_the_fitted_model(spec):
    est = spec.fit()
    before, curve = spec.outputs(est), list(est.loss_curve_)
    spec.fit(est.set_params(warm_start=True, max_iter=1))
    assert len(est.loss_curve_) == len(curve) + 1
    assert est.loss_curve_[: len(curve)] == curve
    assert not np.array_equal(spec.outputs(est), before)
    # without warm_start, a refit starts again: the same model as the first
    spec.fit(est.set_params(warm_start=False, max_iter=spec.fast["max_iter"]))
    np.testing.assert_array_equal(spec.outputs(est), before)


@each_estimator("partial_fit")
def test_partial_fit_adds_one_epoch_each_call(spec):
    est = spec.make()
    spec.partial_fit(est)
    first = spec.outputs(est)
    spec.partial_fit(est)
    assert est.n_iter_ == len(est.loss_curve_) == 2
    assert not np.array_equal(spec.outputs(est), first)


@each_estimator()
def test_a_failed_fit_keeps_the_fitted_model(spec):
    est = spec.fit()
    before = spec.outputs(est)
    X_bad, y_bad = spec.bad_fit_data()
    with pytest.raises(ValueError):
        spec.fit(est, X_bad, y_bad)
    np.testing.assert_array_equal(spec.outputs(est), before)


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


# -- interrupts ----------------------------------------------------------------------
def _interrupt_at(monkeypatch, core_class, call):
    """Make the ``call``-th training step (from 1) raise KeyboardInterrupt."""
    step, count = core_class.train_step, {"n": 0}

    def train_step(self, *args, **kwargs):
        count["n"] += 1
        if count["n"] == call:
            raise KeyboardInterrupt
        return step(self, *args, **kwargs)

    monkeypatch.setattr(core_class, "train_step", train_step)


def test_interrupt_before_the_first_epoch_leaves_no_fitted_model(monkeypatch):
    from sklearn.exceptions import NotFittedError

    from skff.core import FFNet

    _interrupt_at(monkeypatch, FFNet, 2)
    clf = FFClassifier(hidden_size=8, max_iter=3, batch_size=50)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_interrupt_keeps_the_model_and_is_raised(monkeypatch):
    from skff.core import FFNet

    _interrupt_at(monkeypatch, FFNet, 8)  # 6 batches an epoch: in epoch 2
    clf = FFClassifier(hidden_size=8, max_iter=3, batch_size=50, random_state=0)
    with pytest.warns(UserWarning, match="interrupted after 1 epoch"):
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 1
    assert clf.predict(X).shape == (len(X),)


def test_interrupt_stops_a_model_search(monkeypatch):
    from sklearn.model_selection import cross_val_score

    from skff.core import FFNet

    _interrupt_at(monkeypatch, FFNet, 15)  # in the second of five folds
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning):
        cross_val_score(FFClassifier(hidden_size=8, max_iter=2, batch_size=50), X, y)


def test_interrupted_import_leaves_no_half_imported_modules(tmp_path, monkeypatch):
    import sys

    from skff._training import import_cleanly

    pkg = tmp_path / "slowpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from . import first\nraise KeyboardInterrupt\n")
    (pkg / "first.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        import_cleanly("slowpkg")
    assert "slowpkg" not in sys.modules and "slowpkg.first" not in sys.modules
    (pkg / "__init__.py").write_text("from . import first\n")
    import_cleanly("slowpkg")
    assert sys.modules["slowpkg"].first.VALUE == 1
    del sys.modules["slowpkg"], sys.modules["slowpkg.first"]


# -- concurrency ---------------------------------------------------------------------
def test_predict_during_a_refit_in_another_thread():
    """The fitted state is published in one step at the end of fit: a model
    with other classes never mixes with the old one's network."""
    import threading

    clf = FFClassifier(hidden_size=16, max_iter=2, batch_size=20, random_state=0)
    clf.fit(X, y)  # 4 classes
    errors, done = [], threading.Event()

    def predict_loop():
        while not done.is_set():
            try:
                assert set(clf.predict(X[:5])) <= set(clf.classes_) | set(range(8))
            except Exception as exc:  # noqa: BLE001 - recorded for the assertion
                errors.append(exc)

    thread = threading.Thread(target=predict_loop)
    thread.start()
    try:
        for _ in range(3):
            clf.set_params(max_iter=3).fit(X, np.arange(len(X)) % 8)  # 8 classes
            clf.fit(X, y)
    finally:
        done.set()
        thread.join()
    assert not errors, errors[:3]


# -- generate ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lm():
    docs = ["the cat sat on the mat. " * 10, "a dog ran to the log. " * 10]
    return FFLanguageModel(
        context_size=5, hidden_size=16, max_iter=2, random_state=0
    ).fit(docs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(temperature=float("nan")), "finite number"),
        (dict(temperature=float("inf")), "finite number"),
        (dict(temperature=-1.0), ">= 0"),
        (dict(n_chars=True), "non-negative integer"),
        (dict(n_chars=2.0), "non-negative integer"),
    ],
)
def test_generate_rejects_bad_arguments(lm, kwargs, match):
    with pytest.raises(ValueError, match=match):
        lm.generate("the cat ", **kwargs)


def test_generate_with_a_tiny_temperature_is_greedy(lm):
    greedy = lm.generate("the cat ", n_chars=10, temperature=0)
    assert lm.generate("the cat ", n_chars=10, temperature=1e-310) == greedy


@pytest.mark.parametrize("prompt", ["", "th", "the c"])
def test_generate_pads_a_short_prompt(lm, prompt):
    text = lm.generate(prompt, n_chars=8, random_state=0)
    assert text.startswith(prompt) and len(text) == len(prompt) + 8


# -- impossible sizes ----------------------------------------------------------------
@pytest.mark.parametrize("cls", [FFClassifier, FFRecurrentClassifier])
def test_impossible_size_is_a_clear_memory_error(cls):
    clf = cls(hidden_size=100_000, n_layers=2, max_iter=1)
    with pytest.raises(MemoryError, match=r"hidden_size=100000.*GiB"):
        clf.fit(X, y)
    assert not hasattr(clf, "core_")


def test_allocator_failure_during_training_is_a_memory_error(monkeypatch):
    from skff.core import FFNet

    def fail(self, *args, **kwargs):
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: "
            "can't allocate memory: you tried to allocate 800 bytes."
        )

    monkeypatch.setattr(FFNet, "train_step", fail)
    with pytest.raises(MemoryError, match="batch_size=100 "):
        FFClassifier(hidden_size=8, max_iter=1, batch_size=100).fit(X, y)
    with pytest.raises(MemoryError, match="batch_size='auto' "):
        FFClassifier(hidden_size=8, max_iter=1).fit(X, y)


# -- prediction memory ---------------------------------------------------------------
def test_padding_rows_are_not_scored_with_every_label(monkeypatch):
    """Prediction pads a chunk to 64 rows for row-invariant kernels; scoring
    every label must multiply only the real rows (a 2,000-character
    vocabulary and one prompt: 2,048 (row, label) pairs, not 64 x 2,000)."""
    from skff.core import FFNet

    chars = "".join(chr(0x4E00 + i) for i in range(2000))
    lm = FFLanguageModel(
        context_size=2, hidden_size=16, max_iter=1, readout="goodness", random_state=0
    ).fit([chars])
    seen = []
    propagate = FFNet._propagate

    def spy(self, h):
        seen.append(h.shape[0])
        return propagate(self, h)

    monkeypatch.setattr(FFNet, "_propagate", spy)
    lm.predict_proba([chars[:5]])
    assert sum(seen) == 2048


@pytest.mark.parametrize(
    "est",
    [
        FFClassifier(hidden_size=64, max_iter=1, readout="goodness", device="cpu"),
        FFRecurrentClassifier(
            hidden_size=64, max_iter=1, readout="goodness", device="cpu"
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_label_scores_do_not_depend_on_the_pair_block_size(est, monkeypatch):
    """(row, label) pairs are scored in cache-sized blocks: blocks of at most 64
    pairs and one block of all 1,200 give the same probabilities bit for
    bit."""
    import skff._readouts
    from skff.core import LocalTrainingCore

    est.set_params(random_state=0).fit(X, y)
    blocks = []
    score_pairs = LocalTrainingCore._score_pairs

    def spy(self, n, n_valid, score, max_rows):
        blocks.append(max_rows)
        return score_pairs(self, n, n_valid, score, max_rows)

    monkeypatch.setattr(LocalTrainingCore, "_score_pairs", spy)
    monkeypatch.setattr(skff._readouts, "_PAIR_ELEMENTS", 64 * 64)
    small = est.predict_proba(X)
    assert max(blocks) <= 64
    monkeypatch.setattr(skff._readouts, "_PAIR_ELEMENTS", 1 << 30)
    large = est.predict_proba(X)
    assert blocks[-1] >= len(X) * 4
    np.testing.assert_array_equal(small, large)


@each_estimator("arrays")
@pytest.mark.parametrize(
    "bad_X",
    [np.full((20, 10), 1e20), np.full((20, 64), np.nan), np.zeros((0, 64))],
    ids=["other-width-too-large", "nan", "no-rows"],
)
def test_a_fit_refused_for_its_rows_keeps_the_fitted_model(spec, bad_X):
    """Validation runs on a stand-in: nothing of the estimator changes, not
    even ``n_features_in_``, until a fit has trained."""
    est = spec.fit()
    before = spec.outputs(est)
    fitted = [k for k in vars(est) if k.endswith("_")]
    y_bad = np.arange(len(bad_X)) % 2 if "y" in spec.supports else None
    with pytest.raises(ValueError):
        spec.fit(est, bad_X, y_bad)
    assert est.n_features_in_ == 64
    assert [k for k in vars(est) if k.endswith("_")] == fitted
    np.testing.assert_array_equal(spec.outputs(est), before)


def test_a_failed_fit_keeps_the_feature_names():
    pd = pytest.importorskip("pandas")
    spec = SPECS["FFClassifier"]
    X, y, _ = spec.data()
    frame = pd.DataFrame(X, columns=[f"p{i}" for i in range(X.shape[1])])
    clf = spec.fit(X=frame, y=y)
    with pytest.raises(ValueError, match="one class"):
        clf.fit(np.zeros((20, 10)), np.zeros(20))
    assert list(clf.feature_names_in_) == list(frame.columns)
    spec.fit(clf, X, y)  # plain arrays: the names go
    assert not hasattr(clf, "feature_names_in_")


@each_estimator("arrays")
def test_a_batch_larger_than_the_data_trains(spec):
    # the memory check counts the rows a batch can hold, not batch_size
    est = spec.fit(spec.make(batch_size=10**8, max_iter=1))
    assert est.n_iter_ == 1


@each_estimator("arrays")
def test_prediction_holds_little_beyond_its_result(spec):
    """Rows are converted and scored a chunk at a time into one result
    array: the numpy memory of a prediction stays near the result's size
    (the input is not copied whole, chunks are not gathered and joined)."""
    import tracemalloc

    est = spec.fit()
    X = np.tile(spec.data()[0], (100, 1))  # 30,000 rows
    spec.outputs(est, X[:100])
    tracemalloc.start()
    try:
        out = spec.outputs(est, X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # predict_proba also holds the log-probabilities it exponentiates
    assert peak < 2.2 * out.nbytes + (4 << 20), (peak, out.nbytes)


@each_estimator("arrays")
def test_prediction_reads_one_model_while_a_refit_publishes(spec, monkeypatch):
    """A refit in another thread that publishes between a prediction's read
    of the model and its check of the rows: the rows are checked against the
    model that predicts, not the new one (here on 32 features)."""
    est = spec.fit()
    X, y, X_test = spec.data()
    before = spec.outputs(est)
    refit = spec.fit(
        X=np.ascontiguousarray(X[:, :32]),
        y=y,
        est=spec.make(
            **({"input_shape": (1, 4, 8)} if "input_shape" in spec.fast else {})
        ),
    )
    check_rows = type(est)._check_rows

    def publish_first(self, *args, **kwargs):
        self.__dict__ = dict(refit.__dict__)  # the refit publishes now
        return check_rows(self, *args, **kwargs)

    monkeypatch.setattr(type(est), "_check_rows", publish_first)
    np.testing.assert_array_equal(spec.outputs(est, X_test), before)
