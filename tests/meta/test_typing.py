"""The public API carries type hints that resolve, and the package is PEP 561 typed."""

import inspect
import pathlib
import sys
import typing

import pytest

import skff
from skff import (
    FFClassifier,
    FFConvClassifier,
    FFLanguageModel,
    FFRecurrentClassifier,
    FFTransformer,
    resolve_device,
    train_with_forward_forward_algorithm,
)

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self

ESTIMATORS = [
    FFClassifier,
    FFConvClassifier,
    FFRecurrentClassifier,
    FFLanguageModel,
    FFTransformer,
]
FUNCTIONS = [resolve_device, train_with_forward_forward_algorithm]
METHODS = [
    "fit",
    "partial_fit",
    "predict",
    "decision_function",
    "predict_proba",
    "predict_log_proba",
    "score",
    "score_samples",
    "perplexity",
    "generate",
    "goodness_trajectory",
    "block_scores",
    "transform",
]
# Methods that the classifiers inherit unchanged from scikit-learn, which ships no
# type hints (ClassifierMixin.score); skff does not override them.
INHERITED_FROM_SKLEARN = {
    (FFClassifier, "score"),
    (FFRecurrentClassifier, "score"),
    (FFConvClassifier, "score"),
}
# methods that return the estimator itself
RETURN_SELF = {"fit", "partial_fit"}


def _public_methods():
    for cls in ESTIMATORS:
        for name in METHODS:
            if hasattr(cls, name):
                yield pytest.param(cls, name, id=f"{cls.__name__}.{name}")


def _check_annotated(func, where):
    sig = inspect.signature(func)
    assert sig.return_annotation is not inspect.Signature.empty, (
        f"{where} has no return annotation"
    )
    unannotated = [
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.annotation is inspect.Parameter.empty
    ]
    assert not unannotated, f"{where}: parameters {unannotated} are not annotated"
    # every annotation must resolve (a broken forward reference raises here)
    hints = typing.get_type_hints(func)
    assert "return" in hints, f"{where}: the return annotation did not resolve"
    return hints


def test_the_list_covers_every_method():
    # each name of METHODS is a method of at least one estimator (no typos)
    for name in METHODS:
        assert any(hasattr(cls, name) for cls in ESTIMATORS), name


@pytest.mark.parametrize("cls, name", list(_public_methods()))
def test_public_method_is_annotated(cls, name):
    method = getattr(cls, name)
    where = f"{cls.__name__}.{name}"
    defined_in = inspect.unwrap(method).__module__
    if (cls, name) in INHERITED_FROM_SKLEARN:
        assert defined_in.startswith("sklearn."), (
            f"{where} is now defined in {defined_in}: remove it from "
            "INHERITED_FROM_SKLEARN so that its annotations are checked"
        )
        return
    assert defined_in.startswith("skff."), (
        f"{where} comes from {defined_in}, not from skff"
    )
    hints = _check_annotated(method, where)
    if name in RETURN_SELF:
        assert hints["return"] is Self, f"{where} should return Self"


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_public_function_is_annotated(func):
    _check_annotated(func, f"skff.{func.__name__}")


def test_fit_returning_self_holds_at_runtime():
    # the annotation ``Self`` is what fit really returns
    import numpy as np

    X = np.tile(np.eye(2), (4, 1))
    y = np.tile([0, 1], 4)
    clf = FFClassifier(hidden_size=4, n_layers=1, max_iter=1, random_state=0)
    assert clf.fit(X, y) is clf
    assert clf.partial_fit(X, y) is clf
    assert isinstance(clf.predict_proba(X), np.ndarray)


def test_py_typed_marker_is_installed():
    package_dir = pathlib.Path(skff.__file__).parent
    assert (package_dir / "py.typed").is_file()
