"""sample_weight and class_weight, for every classifier: weights change what
is learned, combine as in scikit-learn, leave a fit alone when they are all
equal, split with the early-stopping hold-out, and are checked."""

import numpy as np
import pytest
from conftest import ESTIMATORS, SPECS
from sklearn.datasets import make_classification
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skff import FFClassifier, FFConvClassifier

# the registry's settings of each classifier with sample_weight, for 8x8 digits
OVERRIDES = {
    "FFClassifier": dict(hidden_size=32, max_iter=10),
    "FFRecurrentClassifier": dict(n_iterations=3, goodness_window=(1, 3), max_iter=10),
    "FFConvClassifier": SPECS["FFConvClassifier"].accurate,
}
CLASSIFIERS = [spec.cls for spec in ESTIMATORS if "sample_weight" in spec.supports]


def _make(cls, **params):
    return cls(**SPECS[cls.__name__].settings(**{**OVERRIDES[cls.__name__], **params}))


@pytest.fixture(scope="module")
def three_digits(small_digits):
    """The 0s, 1s and 2s of the small digits."""
    X_tr, X_te, y_tr, y_te = small_digits
    train, test = y_tr < 3, y_te < 3
    return X_tr[train], X_te[test], y_tr[train], y_te[test]


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_a_class_of_zero_weight_is_never_predicted(cls, three_digits):
    X_tr, X_te, y_tr, y_te = three_digits
    plain = _make(cls, random_state=0).fit(X_tr, y_tr)
    # the class is learned without weights ...
    assert np.mean(plain.predict(X_te[y_te == 1]) == 1) > 0.8
    weighted = _make(cls, random_state=0).fit(
        X_tr, y_tr, sample_weight=(y_tr != 1).astype(float)
    )
    # ... and never predicted when its samples weigh nothing
    np.testing.assert_array_equal(weighted.classes_, [0, 1, 2])
    assert 1 not in weighted.predict(X_te)
    # the same with a class weight
    zero = _make(cls, class_weight={1: 0.0}, random_state=0).fit(X_tr, y_tr)
    assert 1 not in zero.predict(X_te)


@pytest.fixture(scope="module")
def imbalanced():
    """Two overlapping classes, 9 to 1 (rows of 8 features, scaled)."""
    X, y = make_classification(
        n_samples=800,
        n_features=8,
        n_informative=4,
        weights=[0.9, 0.1],
        class_sep=0.5,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_balanced_class_weight_raises_the_recall_of_the_minority(cls, imbalanced):
    X_tr, X_te, y_tr, y_te = imbalanced
    params = dict(input_shape=None, channels=(8, 8)) if cls is FFConvClassifier else {}
    plain = _make(cls, **params, random_state=0).fit(X_tr, y_tr)
    balanced = _make(cls, **params, class_weight="balanced", random_state=0)
    balanced.fit(X_tr, y_tr)
    before = recall_score(y_te, plain.predict(X_te))
    after = recall_score(y_te, balanced.predict(X_te))
    assert after >= before + 0.25, (before, after)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_equal_weights_change_nothing(cls, three_digits):
    """All-ones (or any constant) weights give the bit-identical fit, also
    with an early-stopping hold-out and in partial_fit."""
    X_tr, X_te, y_tr, _ = three_digits
    for params in [dict(max_iter=3), dict(max_iter=3, early_stopping=True)]:
        plain = _make(cls, **params, random_state=0).fit(X_tr, y_tr)
        for weights in (np.ones(len(y_tr)), np.full(len(y_tr), 3.0)):
            est = _make(cls, **params, random_state=0)
            est.fit(X_tr, y_tr, sample_weight=weights)
            np.testing.assert_array_equal(
                est.predict_proba(X_te), plain.predict_proba(X_te)
            )
            assert est.loss_curve_ == plain.loss_curve_
            assert est.validation_scores_ == plain.validation_scores_
    plain.partial_fit(X_tr, y_tr)
    est.partial_fit(X_tr, y_tr, sample_weight=np.ones(len(y_tr)))
    np.testing.assert_array_equal(est.predict_proba(X_te), plain.predict_proba(X_te))


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_class_weight_multiplies_sample_weight(cls, three_digits):
    """class_weight={c: w_c} is sample_weight w_c for the samples of class c,
    and the two multiply (as in scikit-learn's linear models)."""
    X_tr, X_te, y_tr, _ = three_digits
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.5, 2.0, len(y_tr))
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    per_row = np.array([cw[c] for c in y_tr])
    a = _make(cls, class_weight=cw, max_iter=3, random_state=0)
    a.fit(X_tr, y_tr, sample_weight=sw)
    b = _make(cls, max_iter=3, random_state=0).fit(
        X_tr, y_tr, sample_weight=sw * per_row
    )
    np.testing.assert_array_equal(a.predict_proba(X_te), b.predict_proba(X_te))
    c = _make(cls, max_iter=3, random_state=0).fit(X_tr, y_tr, sample_weight=sw)
    assert not np.array_equal(a.predict_proba(X_te), c.predict_proba(X_te))


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_partial_fit_takes_sample_weight(cls, three_digits):
    X_tr, X_te, y_tr, _ = three_digits
    weights = (y_tr != 1).astype(float)
    plain = _make(cls, random_state=0)
    weighted = _make(cls, random_state=0)
    for _ in range(10):
        plain.partial_fit(X_tr, y_tr, classes=[0, 1, 2])
        weighted.partial_fit(X_tr, y_tr, classes=[0, 1, 2], sample_weight=weights)
    assert 1 in plain.predict(X_te)
    assert 1 not in weighted.predict(X_te)


def test_early_stopping_holds_out_the_weights_with_the_rows(three_digits):
    """The validation accuracy is weighted by the held-out rows' weights: the
    restored best model scores best_validation_score_ on them."""
    X_tr, _, y_tr, _ = three_digits
    weights = np.where(y_tr == 2, 0.1, 1.0)
    clf = _make(FFClassifier, max_iter=8, early_stopping=True, validation_fraction=0.3)
    clf.set_params(random_state=0).fit(X_tr, y_tr, sample_weight=weights)
    _, X_val, _, y_val, _, w_val = train_test_split(
        X_tr,
        y_tr,
        weights,
        test_size=0.3,
        random_state=clf._seed,
        stratify=y_tr,
    )
    correct = clf.predict(X_val) == y_val
    assert clf.best_validation_score_ == pytest.approx(
        np.average(correct, weights=w_val)
    )
    assert correct.mean() != pytest.approx(np.average(correct, weights=w_val))


X_BAD = np.random.RandomState(0).rand(30, 64)
Y_BAD = np.arange(30) % 3


@pytest.mark.parametrize("cls", CLASSIFIERS)
@pytest.mark.parametrize(
    "params, weights, match",
    [
        ({}, -np.ones(30), "Negative values in data passed to `sample_weight`"),
        ({}, np.ones(29), r"sample_weight.shape == \(29,\), expected \(30,\)"),
        ({}, np.ones((30, 2)), "1D array"),
        ({}, np.zeros(30), "at least one non-zero"),
        ({}, np.where(Y_BAD == 0, np.nan, 1.0), "NaN"),
        ({}, (Y_BAD == 0).astype(float), "only one class has samples of non-zero"),
        ({"class_weight": {0: 1.0, 7: 2.0}}, None, r"class_weight has labels \[7\]"),
        ({"class_weight": {0: -1.0}}, None, "finite numbers >= 0"),
        ({"class_weight": {0: 0.0, 1: 0.0, 2: 0.0}}, None, "every sample a zero"),
    ],
)
def test_bad_weights_are_refused(cls, params, weights, match):
    est = _make(cls, **params, max_iter=1)
    with pytest.raises(ValueError, match=match):
        est.fit(X_BAD, Y_BAD, sample_weight=weights)
    assert not hasattr(est, "core_")


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_balanced_is_refused_by_partial_fit(cls):
    est = _make(cls, class_weight="balanced")
    with pytest.raises(ValueError, match="compute_class_weight"):
        est.partial_fit(X_BAD, Y_BAD, classes=[0, 1, 2])
    assert not hasattr(est, "core_")
    # a dict of class weights is fine
    est.set_params(class_weight={0: 2.0}).partial_fit(X_BAD, Y_BAD, classes=[0, 1, 2])
    assert est.n_iter_ == 1
