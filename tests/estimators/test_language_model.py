"""FFLanguageModel: its text API, learning, generation and fitting modes (the
concerns shared by every estimator are in the other files of tests/estimators/)."""

import numpy as np
import pytest
from conftest import DOCS, SPECS

from skff import FFLanguageModel
from skff.datasets import load_default_text
from skff.text import UNKNOWN

FAST = SPECS["FFLanguageModel"].settings(accurate=True)


@pytest.fixture(scope="module")
def fitted():
    return FFLanguageModel(**FAST, random_state=0).fit(DOCS)


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


def test_refit_is_bit_identical():
    a = FFLanguageModel(**FAST, random_state=1).fit(DOCS)
    b = FFLanguageModel(**FAST, random_state=1).fit(DOCS)
    np.testing.assert_array_equal(a.score_samples(DOCS), b.score_samples(DOCS))


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
