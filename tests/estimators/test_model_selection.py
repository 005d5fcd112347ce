"""Every estimator inside scikit-learn's tooling: clone, and GridSearchCV over
a Pipeline holding it; and the classifiers' scores in them, in parallel."""

import numpy as np
from conftest import DOCS, SPECS, each_estimator
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skff import FFClassifier, FFRecurrentClassifier

FAST = SPECS["FFClassifier"].make(**SPECS["FFClassifier"].accurate).get_params()
RECURRENT = (
    SPECS["FFRecurrentClassifier"]
    .make(**SPECS["FFRecurrentClassifier"].accurate)
    .get_params()
)
LM_FAST = SPECS["FFLanguageModel"].make(**SPECS["FFLanguageModel"].accurate)


# -- every estimator -----------------------------------------------------------------
@each_estimator()
def test_clone_is_unfitted_with_same_params(spec):
    est = spec.fit()
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "core_") and not hasattr(copy, "n_iter_")
    assert not hasattr(copy, "classes_")


def _searched(spec):
    """The estimator in a Pipeline (after a preprocessing step, or before a
    classifier for the transformer), its grid over max_iter."""
    est = spec.make()
    if "text" in spec.supports:
        pipe = make_pipeline(FunctionTransformer(lambda d: [x.lower() for x in d]), est)
    elif "y" in spec.supports:
        pipe = make_pipeline(FunctionTransformer(), est)
    else:
        pipe = make_pipeline(est, LogisticRegression(max_iter=200))
    step = type(est).__name__.lower()
    return pipe, {f"{step}__max_iter": [1, spec.fast["max_iter"]]}


@each_estimator()
def test_grid_search_over_a_pipeline(spec):
    """GridSearchCV (so cross-validation) of a Pipeline holding the
    estimator: each candidate's setting reaches it, every one is scored, and
    the refit pipeline predicts."""
    X, y, X_test = spec.data()
    if "text" in spec.supports:
        X = [d.upper() for d in X] * 2  # 4 documents: 2 folds
    elif y is None:  # the transformer's features, for a classifier
        y = SPECS["FFClassifier"].data()[1]
    pipe, grid = _searched(spec)
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.all(np.isfinite(scores))
    assert search.best_score_ == scores.max()
    ((name, values),) = grid.items()
    best = search.best_estimator_.named_steps[name.split("__")[0]]
    assert best.n_iter_ == search.best_params_[name] in values
    assert len(search.predict(X_test)) == len(X_test)


# -- FFClassifier ------------------------------------------------------------------
def test_pipeline_with_scaler(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    pipe = make_pipeline(StandardScaler(), FFClassifier(**FAST))
    pipe.fit(X_tr * 16, y_tr)  # raw 0-16 pixel values
    assert pipe.score(X_te * 16, y_te) > 0.8


def test_grid_search_two_parameters_in_parallel(small_digits):
    X_tr, _, y_tr, _ = small_digits
    grid = GridSearchCV(
        FFClassifier(**FAST),
        {"hidden_size": [16, 64], "loss": ["symba", "logistic"]},
        cv=2,
        n_jobs=2,
    ).fit(X_tr, y_tr)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_score_ > 0.7
    assert isinstance(grid.best_estimator_, FFClassifier)
    # parallel results equal sequential ones (deterministic on CPU)
    seq = GridSearchCV(
        FFClassifier(**FAST),
        {"hidden_size": [16, 64], "loss": ["symba", "logistic"]},
        cv=2,
        n_jobs=1,
    ).fit(X_tr, y_tr)
    np.testing.assert_array_equal(
        grid.cv_results_["mean_test_score"], seq.cv_results_["mean_test_score"]
    )


def test_cross_val_score(small_digits):
    X_tr, _, y_tr, _ = small_digits
    scores = cross_val_score(FFClassifier(**FAST), X_tr, y_tr, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.7


# -- FFRecurrentClassifier -----------------------------------------------------------
def test_recurrent_pipeline_grid_search_and_clone(small_digits):
    X_tr, X_te, y_tr, y_te = small_digits
    pipe = make_pipeline(StandardScaler(), FFRecurrentClassifier(**RECURRENT))
    assert pipe.fit(X_tr * 16, y_tr).score(X_te * 16, y_te) > 0.7

    params = {"goodness_window": [(1, 2), (2, 3)]}
    base = FFRecurrentClassifier(**{**RECURRENT, "max_iter": 3})
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
    lm = LM_FAST.set_params(max_iter=2)
    assert clone(lm).get_params() == lm.get_params()
    pipe = make_pipeline(
        FunctionTransformer(lambda docs: [d.lower() for d in docs]), lm
    )
    pipe.fit([d.upper() for d in DOCS])
    assert np.isfinite(pipe.score(DOCS))
    grid = GridSearchCV(lm, {"context_size": [2, 4]}, cv=2).fit(DOCS * 2)
    assert grid.best_params_["context_size"] in (2, 4)
