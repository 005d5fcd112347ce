"""FFLanguageModel: text API, scikit-learn conventions, learning, persistence."""

import io
import pickle
from unittest import mock

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_estimators_unfitted,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
)

from skff import FFLanguageModel
from skff.datasets import load_default_text
from skff.text import UNKNOWN

FAST = dict(context_size=4, hidden_size=64, max_iter=4, batch_size=64, device="cpu")
DOCS = [
    "the cat sat on the mat and the cat ate the rat. " * 6,
    "a dog sat on a log and the dog ate a frog. " * 6,
]


@pytest.fixture(scope="module")
def fitted():
    return FFLanguageModel(**FAST, random_state=0).fit(DOCS)


@pytest.mark.parametrize(
    "check",
    [
        check_estimator_cloneable,
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_do_not_raise_errors_in_init_or_set_params,
        check_valid_tag_types,
        check_estimator_tags_renamed,
        check_mixin_order,
        check_estimators_unfitted,
    ],
)
def test_data_free_sklearn_checks(check):
    check("FFLanguageModel", FFLanguageModel(**FAST))


def test_learns_repetitive_text(fitted):
    """Far better than a uniform guess and than the unigram model."""
    counts = np.unique(list("".join(d[4:] for d in DOCS)), return_counts=True)[1]
    unigram_ppl = np.exp(-(counts / counts.sum() * np.log(counts / counts.sum())).sum())
    assert fitted.perplexity(DOCS) < 0.5 * unigram_ppl
    assert fitted.score(DOCS) > np.log(1 / len(fitted.classes_)) + 1.0


def test_several_negatives_learn():
    """Eight wrong next characters per position learn the text as well."""
    lm = FFLanguageModel(**FAST, n_negatives=8, random_state=0).fit(DOCS)
    assert lm.perplexity(DOCS) < 4.0
    assert lm.core_.objective.n_negatives == 8


def test_next_character_api(fitted):
    proba = fitted.predict_proba(["the cat sa", "a dog "])
    assert proba.shape == (2, len(fitted.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
    pred = fitted.predict(["the cat sa", "a dog "])
    assert pred.shape == (2,) and all(p in fitted.classes_ for p in pred)
    np.testing.assert_array_equal(pred, fitted.classes_[proba.argmax(axis=1)])


def test_vocabulary_and_unknown_characters(fitted):
    assert fitted.classes_[-1] == UNKNOWN
    assert set(fitted.vocabulary_) == set("".join(DOCS)) | {UNKNOWN}
    # emoji and combining marks are unknown, but scored without error
    s = fitted.score_samples(["the cat 🐈 sat on the mat", "cafe\u0301 on the mat"])
    assert s.shape == (2,) and np.all(np.isfinite(s))


def test_score_samples_matches_score(fitted):
    per_doc = fitted.score_samples(DOCS)
    lengths = np.array([len(d) - 4 for d in DOCS])
    np.testing.assert_allclose(
        fitted.score(DOCS), (per_doc * lengths).sum() / lengths.sum()
    )
    assert fitted.perplexity(DOCS) == pytest.approx(np.exp(-fitted.score(DOCS)))


def test_generate(fitted):
    out = fitted.generate("the cat", n_chars=30, random_state=0)
    assert out.startswith("the cat") and len(out) == 37
    assert out == fitted.generate("the cat", n_chars=30, random_state=0)
    greedy = fitted.generate("the cat", n_chars=10, temperature=0)
    assert set(greedy[7:]) <= set(fitted.classes_)


@pytest.mark.parametrize(
    "X, err, match",
    [
        ("a bare string", ValueError, "Iterable over raw text documents"),
        (b"bytes", ValueError, "Iterable over raw text documents"),
        (None, TypeError, "iterable of strings"),
        (12, TypeError, "iterable of strings"),
        ([], ValueError, "empty"),
        (["fine text here", 3], TypeError, "document 1 is a int"),
        (["fine text here", None], TypeError, "document 1 is a NoneType"),
        (["fine text here", "abc"], ValueError, "Document 1 has 3 characters"),
        (["fine text here", ""], ValueError, "Document 1 has 0 characters"),
    ],
)
def test_bad_documents(X, err, match):
    with pytest.raises(err, match=match):
        FFLanguageModel(**FAST).fit(X)


def test_bad_parameters_and_prompts(fitted):
    with pytest.raises(InvalidParameterError, match="context_size"):
        FFLanguageModel(context_size=0).fit(DOCS)
    with pytest.raises(ValueError, match="at least context_size=4"):
        fitted.predict(["ab"])
    with pytest.raises(TypeError, match="prompt must be a string"):
        fitted.generate(["the cat"])


def test_refit_is_bit_identical():
    a = FFLanguageModel(**FAST, random_state=1).fit(DOCS)
    b = FFLanguageModel(**FAST, random_state=1).fit(DOCS)
    np.testing.assert_array_equal(a.score_samples(DOCS), b.score_samples(DOCS))


def test_clone_pipeline_and_grid_search_without_y():
    lm = FFLanguageModel(**{**FAST, "max_iter": 2}, random_state=0)
    assert clone(lm).get_params() == lm.get_params()
    pipe = make_pipeline(
        FunctionTransformer(lambda docs: [d.lower() for d in docs]), lm
    )
    pipe.fit([d.upper() for d in DOCS])
    assert np.isfinite(pipe.score(DOCS))
    grid = GridSearchCV(lm, {"context_size": [2, 4]}, cv=2).fit(DOCS * 2)
    assert grid.best_params_["context_size"] in (2, 4)


def test_lowercase_and_alphabet():
    lm = FFLanguageModel(**FAST, lowercase=True, alphabet="abcdefghijklmnopqrstuvwxyz ")
    lm.fit([d.upper() for d in DOCS])
    assert set(lm.classes_) <= set("abcdefghijklmnopqrstuvwxyz ") | {UNKNOWN}


def test_early_stopping_and_verbose(capsys):
    lm = FFLanguageModel(
        **{**FAST, "max_iter": 30},
        early_stopping=True,
        n_iter_no_change=2,
        verbose=1,
        random_state=0,
    ).fit(DOCS)
    assert len(lm.validation_scores_) == lm.n_iter_ <= 30
    assert lm.best_validation_score_ == max(lm.validation_scores_)
    assert "FFLanguageModel" in capsys.readouterr().err


def test_persistence(fitted, tmp_path):
    joblib.dump(fitted, tmp_path / "lm.joblib")
    loaded = joblib.load(tmp_path / "lm.joblib")
    np.testing.assert_array_equal(
        loaded.score_samples(DOCS), fitted.score_samples(DOCS)
    )
    buf = io.BytesIO()
    with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"):
        pickle.dump(fitted, buf)
    with mock.patch("torch.cuda.is_available", return_value=False):
        cpu = pickle.loads(buf.getvalue())
    assert cpu.predict(["the cat sa"])[0] == fitted.predict(["the cat sa"])[0]
    sio = pytest.importorskip("skops.io")
    sio.dump(fitted, tmp_path / "lm.skops")
    trusted = sio.get_untrusted_types(file=tmp_path / "lm.skops")
    assert trusted == ["skff._language_model.FFLanguageModel"]
    loaded = sio.load(tmp_path / "lm.skops", trusted=trusted)
    np.testing.assert_array_equal(
        loaded.score_samples(DOCS), fitted.score_samples(DOCS)
    )


def test_default_corpus_beats_unigram():
    """On the embedded default text, a short fit is clearly better than unigram."""
    docs = [d for d in load_default_text() if len(d) > 20][:20]
    split = (
        [d[: int(0.9 * len(d))] for d in docs],
        [d[int(0.9 * len(d)) :] for d in docs],
    )
    train, test = split
    test = [d for d in test if len(d) > 12]
    lm = FFLanguageModel(context_size=6, hidden_size=128, max_iter=2, random_state=0)
    lm.fit(train)
    chars, counts = np.unique(list("".join(train)), return_counts=True)
    p = dict(zip(chars, counts / counts.sum(), strict=True))
    test_chars = "".join(d[6:] for d in test)
    unigram = np.mean([np.log(p.get(c, 1e-6)) for c in test_chars])
    assert lm.score(test) > unigram + 0.3
