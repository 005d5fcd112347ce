"""decision_function of every classifier: the readout's scores, one column
per class (log-probabilities), or the log-odds of classes_[1] for two classes;
predict is their argmax, and scikit-learn's ROC AUC scorers use them."""

import numpy as np
import pytest
from conftest import ESTIMATORS, SPECS
from scipy.special import log_softmax
from sklearn.metrics import get_scorer, roc_auc_score

from skff import FFClassifier

OVERRIDES = {
    "FFClassifier": dict(hidden_size=32, max_iter=5),
    "FFRecurrentClassifier": dict(n_iterations=3, goodness_window=(1, 3), max_iter=5),
    "FFConvClassifier": dict(SPECS["FFConvClassifier"].accurate, max_iter=5),
}
CLASSIFIERS = [s.cls for s in ESTIMATORS if "decision_function" in s.supports]


def _fit(cls, X, y, **params):
    name = cls.__name__
    settings = SPECS[name].settings(**{**OVERRIDES[name], **params})
    return cls(**settings, random_state=0).fit(X, y)


@pytest.mark.parametrize("readout", ["goodness", "softmax", "both"])
@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_multiclass_scores_are_the_log_probabilities(cls, readout, small_digits):
    X_tr, X_te, y_tr, _ = small_digits
    clf = _fit(cls, X_tr, y_tr, readout=readout)
    scores = clf.decision_function(X_te)
    assert scores.shape == (len(X_te), 10)
    np.testing.assert_array_equal(scores, clf.predict_log_proba(X_te))
    np.testing.assert_array_equal(
        clf.predict(X_te), clf.classes_[scores.argmax(axis=1)]
    )


@pytest.mark.parametrize("readout", ["goodness", "softmax", "both"])
@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_binary_scores_are_the_log_odds_of_the_second_class(cls, readout, small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    names = np.array(["even", "odd"])
    y_tr, y_te = names[y_tr % 2], names[y_te % 2]
    clf = _fit(cls, X_tr, y_tr, readout=readout)
    scores = clf.decision_function(X_te)
    assert scores.shape == (len(X_te),)
    log_proba = clf.predict_log_proba(X_te)
    np.testing.assert_allclose(scores, log_proba[:, 1] - log_proba[:, 0])
    # predict is the argmax: classes_[1] exactly where the score is positive
    np.testing.assert_array_equal(clf.predict(X_te), clf.classes_[(scores > 0) * 1])
    assert set(clf.predict(X_te)) == {"even", "odd"}
    # scikit-learn's ROC AUC from the scores, by hand and as a scorer
    auc = roc_auc_score(y_te == "odd", scores)
    assert auc > 0.9
    assert get_scorer("roc_auc")(clf, X_te, y_te) == pytest.approx(auc)
    # the log-odds are those of predict_proba
    proba = clf.predict_proba(X_te)
    np.testing.assert_allclose(
        log_softmax(np.c_[np.zeros_like(scores), scores], axis=1)[:, 1],
        np.log(proba[:, 1]),
        rtol=1e-9,
        atol=1e-12,
    )


def test_multiclass_roc_auc_scorer(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    clf = _fit(FFClassifier, X_tr, y_tr)
    assert get_scorer("roc_auc_ovr")(clf, X_te, y_te) > 0.95
