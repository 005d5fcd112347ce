"""scikit-learn's common estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skff import FFClassifier, FFRecurrentClassifier

FAST = dict(n_layers=1, hidden_size=32, max_iter=20, batch_size=32, device="cpu")

ESTIMATORS = [
    FFClassifier(**FAST),
    FFClassifier(**FAST, loss="logistic", readout="softmax", negatives="uniform"),
    FFRecurrentClassifier(
        hidden_size=16,
        n_iterations=2,
        goodness_window=(1, 2),
        learning_rate="constant",
        max_iter=10,
        batch_size=64,
        device="cpu",
    ),
]


def expected_failed_checks(estimator):
    return {}


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
