"""What both Forward-Forward classifiers share: label handling, fit /
partial_fit / warm_start, early-stopping scores and the probability readouts.

Subclasses define ``__init__`` (their parameters), ``_build_core`` and
``_architecture`` (the core settings a warm start must keep).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import BaseFF, check_input_scale, resolve_device
from ._batching import ArraySource
from ._typing import Self, fit_context


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
        warm = self.warm_start and hasattr(self, "core_")
        return self._fit(X, y, classes=None, incremental=False, reset=not warm)

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
        first = not hasattr(self, "core_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, classes=classes, incremental=True, reset=first)

    def _fit(self, X, y, *, classes, incremental, reset):
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], reset=reset
        )
        check_input_scale(X)
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} can't train when only one class is present "
                    f"(got only {self.classes_[0]!r})."
                )
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y has labels {unseen.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}."
            )
        y_enc = np.searchsorted(self.classes_, y)

        device = resolve_device(self.device)
        self.device_ = str(device)
        if reset:
            self._seed = self._make_seed()
            self.core_ = self._build_core(X.shape[1]).to(device)
            self._reset_history()
        else:
            self._check_architecture()
            self.core_.to(device)
            if not incremental:
                self.n_iter_ = 0
        self._configure_core(restart_optimizers=reset or not incremental)

        validation = None
        if self.early_stopping and not incremental:
            X, X_val, y_enc, y_val = train_test_split(
                X,
                y_enc,
                test_size=self.validation_fraction,
                random_state=self._seed,
                stratify=y_enc,
            )
            if self.validation_scores_ is None:
                self.validation_scores_ = []
            validation = (ArraySource(X_val, device), y_val)
        n_epochs = 1 if incremental else self.max_iter
        self._run_epochs(
            self.core_,
            ArraySource(X, device),
            torch.as_tensor(y_enc, dtype=torch.int64),
            n_epochs,
            validation=validation,
        )
        return self

    def _architecture(self) -> dict:
        """Core settings fixed at construction (checked on warm starts)."""
        raise NotImplementedError

    def _check_architecture(self) -> None:
        have = self.core_.get_config()
        expected = dict(
            n_features=self.n_features_in_,
            n_classes=len(self.classes_),
            **self._architecture(),
        )
        changed = [k for k in expected if have[k] != expected[k]]
        if changed:
            raise ValueError(
                f"warm_start/partial_fit continue training the same network, but "
                f"{', '.join(changed)} changed since it was built. Set "
                "warm_start=False to train a new one."
            )

    def _configure_core(self, restart_optimizers: bool) -> None:
        self.core_.label_strength = float(self.label_strength)
        self._configure_training(self.core_, reset=restart_optimizers)

    def _validation_score(self, core, source, y_val) -> float:
        logp = self._map_rows(source, self._log_scores_batch, self._row_elements())
        return float((logp.argmax(axis=1) == y_val).mean())

    # -- prediction ----------------------------------------------------------------
    def _row_elements(self) -> int:
        return len(self.classes_) * self.hidden_size

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
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False
        )
        check_input_scale(X)
        source = ArraySource(X, self._core_device())
        return self._map_rows(source, self._log_scores_batch, self._row_elements())

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
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
