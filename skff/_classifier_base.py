"""What both Forward-Forward classifiers share: label handling, fit /
partial_fit / warm_start, early-stopping scores and the probability readouts.

Subclasses define ``__init__`` (their parameters) and ``_build_core``.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._base import BaseFF, check_input_scale
from ._sources import ArraySource
from ._typing import Self, fit_context
from .exceptions import ModelFormatError


class BaseFFClassifier(ClassifierMixin, BaseFF):
    """Shared machinery of FFClassifier and FFRecurrentClassifier."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fitting -------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike) -> Self:
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Scale features to comparable ranges (e.g. [0, 1] or
            standardized). Sparse matrices are densified one batch at a time.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : FFClassifier
            The fitted classifier.
        """
        return self._fit(X, y, incremental=False)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, classes: ArrayLike | None = None
    ) -> Self:
        """Train for one epoch on ``(X, y)``, keeping the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen; required on the first call,
            ignored afterwards.

        Returns
        -------
        self : FFClassifier
            The updated classifier.
        """
        if not hasattr(self, "core_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, classes=classes, incremental=True)

    def _fit_data(self, X, y, *, warm, classes, device, hold_out, seed):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            reset=not warm,
        )
        check_input_scale(X)
        check_classification_targets(y)
        fitted = {}
        if warm:
            labels = self.classes_
        else:
            labels = np.unique(y if classes is None else np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"{type(self).__name__} can't train when only one class is present "
                    f"(got only {labels[0]!r})."
                )
            fitted["classes_"] = labels
        y_enc = self._encode_labels(y, labels)
        validation = None
        if hold_out:
            X, X_val, y_enc, y_val = train_test_split(
                X,
                y_enc,
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=y_enc,
            )
            validation = (ArraySource(X_val, device), y_val)
        targets = torch.as_tensor(y_enc, dtype=torch.int64)
        return ArraySource(X, device), targets, validation, fitted

    @staticmethod
    def _encode_labels(y, labels) -> np.ndarray:
        """Positions of ``y`` in the sorted ``labels``, or a ValueError naming
        the labels that are not there."""
        unseen = np.setdiff1d(y, labels)
        if unseen.size:
            raise ValueError(
                f"y has labels {unseen.tolist()} that are not in classes_ "
                f"{labels.tolist()}."
            )
        return np.searchsorted(labels, y)

    def _check_loaded_core(self, core) -> None:
        super()._check_loaded_core(core)
        n_features = getattr(self, "n_features_in_", core.n_features)
        if n_features != core.n_features:
            raise ModelFormatError(
                f"The saved {type(self).__name__} has n_features_in_={n_features} "
                f"but its network reads {core.n_features} features."
            )

    def _validation_score(self, core, source, y_val) -> float:
        logp = self._log_proba(core, source)
        return float((logp.argmax(axis=1) == y_val).mean())

    # -- prediction ----------------------------------------------------------------
    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Log of the class probabilities of the chosen ``readout``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        return self._predict_log_proba(X)[0]

    def _predict_log_proba(self, X) -> tuple:
        """Log-probabilities and the ``classes_`` of the same fitted model
        (a refit in another thread publishes a new one meanwhile)."""
        fitted = self._fitted_state("core_", "classes_")
        core = fitted["core_"]
        return self._log_proba(core, self._predict_source(X, core)), fitted["classes_"]

    def _predict_source(self, X, core) -> ArraySource:
        """The validated rows of ``X`` on ``core``'s device."""
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False
        )
        check_input_scale(X)
        return ArraySource(X, next(core.parameters()).device)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities of the chosen ``readout``.

        With ``readout="goodness"`` they are a softmax over the goodness summed
        across the readout layers for each label.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``; rows sum to 1.
        """
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels (the argmax of ``predict_proba``).
        """
        log_proba, classes = self._predict_log_proba(X)
        return classes[np.argmax(log_proba, axis=1)]
