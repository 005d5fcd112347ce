"""Every estimator inside scikit-learn's tooling: Pipeline, GridSearchCV,
cross_val_score, clone."""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skff import FFClassifier, FFLanguageModel, FFRecurrentClassifier

FAST = dict(n_layers=1, hidden_size=64, max_iter=10, batch_size=50, device="cpu")
RECURRENT = dict(
    n_layers=2,
    hidden_size=64,
    n_iterations=4,
    goodness_window=(2, 3),
    max_iter=20,
    batch_size=50,
    device="cpu",
)
LM_FAST = dict(context_size=4, hidden_size=64, max_iter=4, batch_size=64, device="cpu")
DOCS = [
    "the cat sat on the mat and the cat ate the rat. " * 6,
    "a dog sat on a log and the dog ate a frog. " * 6,
]


# -- FFClassifier ------------------------------------------------------------------
def test_pipeline_with_scaler(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    pipe = make_pipeline(StandardScaler(), FFClassifier(**FAST, random_state=0))
    pipe.fit(X_tr * 16, y_tr)  # raw 0-16 pixel values
    assert pipe.score(X_te * 16, y_te) > 0.8


def test_grid_search_two_parameters_in_parallel(small_digits):
    X_tr, _, y_tr, _ = small_digits
    grid = GridSearchCV(
        FFClassifier(**FAST, random_state=0),
        {"hidden_size": [16, 64], "loss": ["symba", "logistic"]},
        cv=2,
        n_jobs=2,
    ).fit(X_tr, y_tr)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_score_ > 0.7
    assert isinstance(grid.best_estimator_, FFClassifier)
    # parallel results equal sequential ones (deterministic on CPU)
    seq = GridSearchCV(
        FFClassifier(**FAST, random_state=0),
        {"hidden_size": [16, 64], "loss": ["symba", "logistic"]},
        cv=2,
        n_jobs=1,
    ).fit(X_tr, y_tr)
    np.testing.assert_array_equal(
        grid.cv_results_["mean_test_score"], seq.cv_results_["mean_test_score"]
    )


def test_clone_is_unfitted_with_same_params(small_digits):
    X_tr, _, y_tr, _ = small_digits
    clf = FFClassifier(**FAST, random_state=0).fit(X_tr, y_tr)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "core_") and not hasattr(copy, "classes_")


def test_cross_val_score(small_digits):
    X_tr, _, y_tr, _ = small_digits
    scores = cross_val_score(FFClassifier(**FAST, random_state=0), X_tr, y_tr, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.7


# -- FFRecurrentClassifier -----------------------------------------------------------
def test_recurrent_pipeline_grid_search_and_clone(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    pipe = make_pipeline(
        StandardScaler(), FFRecurrentClassifier(**RECURRENT, random_state=0)
    )
    assert pipe.fit(X_tr * 16, y_tr).score(X_te * 16, y_te) > 0.7

    params = {"goodness_window": [(1, 2), (2, 3)]}
    base = FFRecurrentClassifier(**{**RECURRENT, "max_iter": 3}, random_state=0)
    grid = GridSearchCV(base, params, cv=2, n_jobs=2).fit(X_tr, y_tr)
    assert len(grid.cv_results_["params"]) == 2
    assert isinstance(grid.best_estimator_, FFRecurrentClassifier)
    seq = GridSearchCV(base, params, cv=2, n_jobs=1).fit(X_tr, y_tr)
    np.testing.assert_array_equal(
        grid.cv_results_["mean_test_score"], seq.cv_results_["mean_test_score"]
    )

    fitted = grid.best_estimator_
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "core_") and not hasattr(copy, "classes_")


# -- FFLanguageModel (unsupervised: no y) ---------------------------------------------
def test_language_model_clone_pipeline_and_grid_search_without_y():
    lm = FFLanguageModel(**{**LM_FAST, "max_iter": 2}, random_state=0)
    assert clone(lm).get_params() == lm.get_params()
    pipe = make_pipeline(
        FunctionTransformer(lambda docs: [d.lower() for d in docs]), lm
    )
    pipe.fit([d.upper() for d in DOCS])
    assert np.isfinite(pipe.score(DOCS))
    grid = GridSearchCV(lm, {"context_size": [2, 4]}, cv=2).fit(DOCS * 2)
    assert grid.best_params_["context_size"] in (2, 4)
