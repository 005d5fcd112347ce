"""The scikit-learn contract of every estimator: scikit-learn's common checks
for the classifiers and the transformer, and the checks that need no data for
the language model (its input is text, which the other common checks cannot
generate)."""

import pytest
from conftest import SPECS
from sklearn.utils.estimator_checks import (
    check_class_weight_classifiers,
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
    parametrize_with_checks,
)

from skff import (
    FFClassifier,
    FFConvClassifier,
    FFLanguageModel,
    FFRecurrentClassifier,
    FFTransformer,
)

# fast settings: small layers, few epochs (and few recurrent iterations)
FAST = SPECS["FFClassifier"].settings(
    n_layers=1, hidden_size=32, max_iter=20, batch_size=32
)
RECURRENT = SPECS["FFRecurrentClassifier"].settings(
    n_iterations=2,
    goodness_window=(1, 2),
    learning_rate="constant",
    max_iter=10,
    batch_size=64,
)
LM_FAST = SPECS["FFLanguageModel"].settings(accurate=True)

CLASSIFIERS = [
    FFClassifier(**FAST),
    FFClassifier(**FAST, loss="logistic", readout="softmax", negatives="uniform"),
    FFRecurrentClassifier(**RECURRENT),
    FFConvClassifier(
        channels=(8, 8),
        learning_rate_init=0.01,
        max_iter=20,
        batch_size=32,
        device="cpu",
    ),
]


TRANSFORMERS = [
    FFTransformer(
        n_layers=2,
        hidden_size=16,
        negatives="hybrid",
        max_iter=5,
        batch_size=32,
        device="cpu",
    ),
    FFTransformer(
        n_layers=1,
        hidden_size=16,
        negatives="self_contrastive",
        loss="logistic",
        max_iter=5,
        batch_size=32,
        device="cpu",
    ),
    FFTransformer(
        hidden_size=16,
        negatives="corrupt",
        output_layers=[0, 1],
        early_stopping=True,
        max_iter=5,
        batch_size=32,
        device="cpu",
    ),
]


# Weighted training is a weighted mean of the losses within each shuffled
# mini-batch; a row repeated k times instead changes how many mini-batches an
# epoch has, which rows share them and every random draw after, so the two fits
# agree in expectation only, not to the tolerance of these checks.
_REPEATS_ARE_NOT_WEIGHTS = (
    "stochastic mini-batch training: repeating rows changes the mini-batches "
    "and the random draws, so weighted and repeated fits differ beyond the "
    "check's tolerance"
)


def expected_failed_checks(estimator):
    if isinstance(estimator, FFTransformer):
        return {}
    return {
        "check_sample_weight_equivalence_on_dense_data": _REPEATS_ARE_NOT_WEIGHTS,
        "check_sample_weight_equivalence_on_sparse_data": _REPEATS_ARE_NOT_WEIGHTS,
    }


@parametrize_with_checks(
    CLASSIFIERS + TRANSFORMERS,
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# Every estimator at its default code path, as users get it: its default
# parameters, only the layers made narrower (and the CPU named) so that each
# estimator's full run of the checks stays within about a minute at one thread.
# batch_size, max_iter, calibrate, readout, loss, negatives, normalization,
# label_mode and the rest stay the defaults.
DEFAULTS = [
    FFClassifier(hidden_size=64, device="cpu"),
    FFRecurrentClassifier(hidden_size=32, device="cpu"),
    FFConvClassifier(channels=(16, 16, 16, 16), device="cpu"),
    FFTransformer(hidden_size=32, device="cpu"),
]


@parametrize_with_checks(
    DEFAULTS, expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_sklearn_compatible_at_defaults(estimator, check):
    check(estimator)


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
    check("FFLanguageModel", FFLanguageModel(**LM_FAST))


@pytest.mark.parametrize("name", list(SPECS))
def test_every_parameter_has_exactly_one_constraint(name):
    cls = SPECS[name].cls
    assert set(cls._parameter_constraints) == set(cls().get_params())


# The class-weight check at the classifiers' full default widths (the suites
# above narrow the layers). FFConvClassifier's default blocks end in batch
# normalization, which centres every channel on the weighted batch: with the
# check's weights (1000 against 0.0001 on 50 rows, 1000 epochs) the wide blocks
# fit the heavy rows one by one and predict the light classes in their own
# regions (class 0 on 48% and 32% of the test rows at random_state=0; the check
# asks for 87%). Per-class biases on the class goodness and batch statistics
# that ignore the weights did not pass either (benchmarks/README.md, issue 29);
# narrower blocks and normalization="sample" do (the suite above). Strict: the
# test fails once the default passes.
@pytest.mark.parametrize(
    "estimator",
    [
        FFClassifier(device="cpu"),
        FFRecurrentClassifier(device="cpu"),
        pytest.param(
            FFConvClassifier(device="cpu"),
            marks=pytest.mark.xfail(
                strict=True,
                reason="batch-normalized wide blocks follow extreme class "
                "weights only on the heavy rows",
            ),
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_class_weight_check_at_full_default_width(estimator):
    check_class_weight_classifiers(type(estimator).__name__, estimator)
