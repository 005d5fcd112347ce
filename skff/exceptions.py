"""Exceptions and warnings raised by skff."""


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss.

    The estimator keeps the weights it had at the start of the epoch that
    diverged, so it stays usable; lower ``learning_rate_init`` and fit again.
    The message names the layer and the epoch. It is a
    :class:`FloatingPointError`, so ``except FloatingPointError`` catches it.

    Examples
    --------
    >>> import numpy as np
    >>> from skff import DivergenceError, FFClassifier
    >>> X = np.random.RandomState(0).rand(40, 4)
    >>> y = np.arange(40) % 2
    >>> clf = FFClassifier(learning_rate_init=1e30, max_iter=2, random_state=0)
    >>> try:
    ...     clf.fit(X, y)
    ... except DivergenceError as exc:
    ...     print("diverged:", "layer" in str(exc))
    diverged: True
    """


class ModelFormatError(ValueError):
    """A saved model's state layout does not match this version of skff.

    Raised when a pickled (joblib, pickle or skops) estimator is loaded by a
    version of skff that stores its state differently; the message names both
    format versions. Refit the model, or load it with the skff version that
    saved it. It is a :class:`ValueError`.

    Examples
    --------
    >>> import pickle
    >>> from sklearn.datasets import load_iris
    >>> from skff import FFClassifier, ModelFormatError
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = FFClassifier(hidden_size=8, max_iter=1, random_state=0).fit(X, y)
    >>> state = clf.__getstate__()
    >>> state["_skff_state_format"] = 0  # as if saved by another version
    >>> try:
    ...     FFClassifier.__new__(FFClassifier).__setstate__(state)
    ... except ModelFormatError:
    ...     print("refused")
    refused
    """


class WorkerError(RuntimeError):
    """A worker process of a fit over several processes ended without
    finishing (killed, out of memory, crashed).

    Raised by ``fit`` and ``partial_fit`` with ``parallel`` set when one of
    the local worker processes they started dies; the others are stopped and
    the estimator keeps its previous state. (An ordinary error in a worker,
    such as a ``ValueError`` or a :class:`DivergenceError`, is raised as
    itself.) It is a :class:`RuntimeError`.

    Examples
    --------
    >>> from skff import FFClassifier, WorkerError
    >>> issubclass(WorkerError, RuntimeError)
    True
    >>> clf = FFClassifier(parallel="pipeline", n_workers=2)
    >>> try:  # doctest: +SKIP
    ...     clf.fit(X, y)  # a worker is killed meanwhile
    ... except WorkerError as exc:
    ...     print(exc)
    worker 1 of 2 of FFClassifier.fit ended (signal 9) before the fit finished; ...
    """
