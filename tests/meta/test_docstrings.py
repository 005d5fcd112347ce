"""Every public object documents itself the numpydoc way, with an example.

The examples themselves run as doctests (``--doctest-modules`` over ``skff``);
this checks that they exist and that the sections the API reference is built
from are there.
"""

import inspect

import pytest

import skff
import skff.datasets

PUBLIC = [getattr(skff, name) for name in skff.__all__ if name != "__version__"]
PUBLIC += [
    getattr(skff.datasets, name)
    for name in skff.datasets.__all__
    if callable(getattr(skff.datasets, name))
]
ESTIMATORS = [
    skff.FFClassifier,
    skff.FFConvClassifier,
    skff.FFRecurrentClassifier,
    skff.FFLanguageModel,
    skff.FFTransformer,
]
METHODS = [
    "fit",
    "partial_fit",
    "predict",
    "decision_function",
    "predict_proba",
    "predict_log_proba",
    "score_samples",
    "perplexity",
    "generate",
    "goodness_trajectory",
]


def _sections(doc: str) -> set:
    """Names of the numpydoc sections (a title line underlined with dashes)."""
    lines = doc.splitlines()
    return {
        lines[i].strip()
        for i in range(len(lines) - 1)
        if lines[i].strip()
        and set(lines[i + 1].strip()) == {"-"}
        and len(lines[i + 1].strip()) == len(lines[i].strip())
    }


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda o: o.__name__)
def test_public_object_has_an_example(obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{obj.__name__} has no docstring"
    assert "Examples" in _sections(doc), f"{obj.__name__}: no Examples section"
    assert ">>> " in doc, f"{obj.__name__}: the Examples section has no doctest"
    if inspect.isfunction(obj) and inspect.signature(obj).parameters:
        assert "Parameters" in _sections(doc), f"{obj.__name__}: no Parameters"


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: e.__name__)
def test_estimator_documents_parameters_and_attributes(est):
    sections = _sections(inspect.getdoc(est))
    assert {"Parameters", "Attributes", "Examples", "See Also"} <= sections
    doc = inspect.getdoc(est)
    for name in inspect.signature(est).parameters:
        assert name in doc, f"{est.__name__}: parameter {name!r} is not documented"


@pytest.mark.parametrize(
    "est, method",
    [(e, m) for e in ESTIMATORS for m in METHODS if hasattr(e, m)],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_public_method_documents_parameters_and_returns(est, method):
    doc = inspect.getdoc(getattr(est, method))
    sections = _sections(doc)
    assert "Parameters" in sections, f"{est.__name__}.{method}: no Parameters"
    assert "Returns" in sections, f"{est.__name__}.{method}: no Returns"
