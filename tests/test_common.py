"""scikit-learn's common estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skff import FFClassifier

FAST = dict(n_layers=1, hidden_size=32, max_iter=20, batch_size=32, device="cpu")

ESTIMATORS = [
    FFClassifier(**FAST),
    FFClassifier(**FAST, loss="logistic", readout="softmax", negatives="uniform"),
]


def expected_failed_checks(estimator):
    return {}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
