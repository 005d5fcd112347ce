"""One-call training compatible with the reference Forward-Forward app."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._classifier import FFClassifier
from ._language_model import FFLanguageModel
from ._recurrent import FFRecurrentClassifier

#: The reference app's model types and the estimator each one builds.
ESTIMATORS = {
    "progressive": FFClassifier,
    "recurrent": FFRecurrentClassifier,
    "nlp": FFLanguageModel,
}
MODEL_TYPES = tuple(ESTIMATORS)


def train_with_forward_forward_algorithm(
    model_type: str = "progressive",
    n_layers: int | None = None,
    hidden_size: int | None = None,
    lr: float | None = None,
    device: str = "auto",
    epochs: int | None = None,
    batch_size: int | None = None,
    theta: float | None = None,
    X: ArrayLike | Iterable[str] | None = None,
    y: ArrayLike | None = None,
    random_state: int | np.random.RandomState | None = None,
    verbose: int = 0,
    **params: Any,
) -> FFClassifier | FFRecurrentClassifier | FFLanguageModel:
    """Build, fit and return the estimator for ``model_type`` in one call.

    The call of the reference Forward-Forward app, on top of skff's estimators.
    Every argument left at ``None`` takes the estimator's own default, which is
    tuned to give a working model; the reference's defaults (``hidden_size=2000,
    lr=0.03, epochs=100, batch_size=5000, theta=2.0``) are not copied because its
    ``batch_size=5000`` leaves one update per epoch on small data sets.

    Parameters
    ----------
    model_type : {"progressive", "recurrent", "nlp"}, default="progressive"
        ``"progressive"`` builds :class:`FFClassifier`, ``"recurrent"``
        :class:`FFRecurrentClassifier`, ``"nlp"`` :class:`FFLanguageModel`.
    n_layers, hidden_size : int, default=None
        Depth and width of the network.
    lr : float, default=None
        Learning rate (``learning_rate_init``).
    device : str, default="auto"
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    epochs : int, default=None
        Passes over the data (``max_iter``). The reference meant epochs *per
        layer* for ``"progressive"`` (layers trained one after another) and
        optimizer steps per batch for ``"nlp"``; skff trains every layer on
        every mini-batch, so an epoch here is one pass for all layers.
    batch_size : int, default=None
        Mini-batch size.
    theta : float, default=None
        Goodness threshold. Given a value, the classifier uses the logistic loss
        ``sigmoid(goodness - theta)`` that ``theta`` belongs to; left at
        ``None``, the estimator's default SymBa loss (which has no threshold) is
        used.
    X, y : array-like, default=None
        Training data: a feature matrix and labels for the classifiers, an
        iterable of strings for ``"nlp"`` (``y`` must then be None). Without
        ``X``, the classifiers train on scikit-learn's digits (scaled to [0, 1])
        and the language model on Python's documentation text, and a
        ``UserWarning`` says so.
    random_state : int, RandomState instance or None, default=None
        Seed.
    verbose : int, default=0
        Progress report (a bar in a terminal, one line per epoch elsewhere).
    **params : dict
        Any other parameter of the target estimator.

    Returns
    -------
    estimator : FFClassifier, FFRecurrentClassifier or FFLanguageModel
        The fitted estimator.

    Raises
    ------
    ValueError
        For an unknown ``model_type``, a parameter the estimator does not have,
        or ``y`` given to the language model.

    Examples
    --------
    >>> from skff import train_with_forward_forward_algorithm
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = train_with_forward_forward_algorithm(
    ...     "progressive", n_layers=2, hidden_size=64, epochs=60, batch_size=16,
    ...     X=X / 8, y=y,
    ...     random_state=0)
    >>> clf.score(X / 8, y) > 0.8
    True
    """
    if model_type not in MODEL_TYPES:
        raise ValueError(
            f"Unknown model_type {model_type!r}; expected one of {MODEL_TYPES}."
        )
    cls = ESTIMATORS[model_type]
    mapped = {
        "n_layers": n_layers,
        "hidden_size": hidden_size,
        "learning_rate_init": lr,
        "max_iter": epochs,
        "batch_size": batch_size,
    }
    kwargs: dict[str, Any] = {k: v for k, v in mapped.items() if v is not None}
    if theta is not None:
        kwargs.update(loss="logistic", threshold=theta)
    kwargs.update(device=device, random_state=random_state, verbose=verbose)
    valid = cls().get_params()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"{cls.__name__} has no parameter(s) {unknown}; valid ones are "
            f"{sorted(valid)}."
        )
    kwargs.update(params)
    estimator = cls(**kwargs)

    if model_type == "nlp":
        if y is not None:
            raise ValueError("model_type='nlp' learns from text alone; y must be None.")
        if X is None:
            from .datasets import load_default_text

            X = [d for d in load_default_text() if len(d) > estimator.context_size]
            warnings.warn(
                "No data given: training the language model on Python's own "
                f"documentation text ({len(X)} documents).",
                UserWarning,
                stacklevel=2,
            )
        return estimator.fit(X)
    if X is None:
        if y is not None:
            raise ValueError("y was given without X.")
        from sklearn.datasets import load_digits

        digits, y = load_digits(return_X_y=True)
        X = digits / 16.0
        warnings.warn(
            "No data given: training on scikit-learn's digits (1797 8x8 images, "
            "pixels scaled to [0, 1]).",
            UserWarning,
            stacklevel=2,
        )
    elif y is None:
        raise ValueError(f"model_type={model_type!r} needs labels y with X.")
    return estimator.fit(X, np.asarray(y) if isinstance(y, list) else y)
