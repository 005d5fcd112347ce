"""What the Forward-Forward classifiers share: label handling, sample and
class weights, fit / partial_fit, the stratified hold-out and the folds
that cross-fit the readout temperatures, early-stopping scores, and the
class probabilities and decision function of the readouts
(:mod:`skff._readouts`).

Subclasses define ``__init__`` (their parameters) and ``_build_core``.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight

from ._base import BaseFF, FitData, HeldOut
from ._mixins import LabelledObjectiveMixin
from ._readouts import CrossFitFolds, ReadoutMixin
from ._sources import ArraySource
from ._typing import Self, fit_context


class BaseFFClassifier(ReadoutMixin, LabelledObjectiveMixin, ClassifierMixin, BaseFF):
    """Shared machinery of FFClassifier, FFRecurrentClassifier and
    FFConvClassifier.

    Row weights (``sample_weight`` times the ``class_weight`` of the row's
    label) act on every local loss and on the softmax head: each loss of a
    mini-batch is the weighted mean ``sum(w_i * loss_i) / sum(w_i)`` over its
    rows, a row's negatives carrying its weight (as ``MLPClassifier`` weighs
    its mini-batches). Only the ratios of weights within a mini-batch matter,
    so weights that are all equal change nothing and are not applied.
    """

    _parameter_constraints: dict = {
        **BaseFF._parameter_constraints,
        **LabelledObjectiveMixin._parameter_constraints,
        **ReadoutMixin._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _required_fitted = ("classes_", "n_features_in_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fitting -------------------------------------------------------------------
    @fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Scale features to comparable ranges (e.g. [0, 1] or
            standardized). Sparse matrices are densified one batch at a time.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every sample, multiplied by the
            ``class_weight`` of its label. Every loss of a mini-batch is the
            weighted mean of its rows' losses (a sample's negatives carry its
            weight); with early stopping, the validation accuracy is weighted
            by the held-out samples' weights. None: every sample weighs 1.

        Returns
        -------
        self : FFClassifier
            The fitted classifier.
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
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
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every sample, as in :meth:`fit`. Weights
            act within each mini-batch, so they weigh samples of one call
            against each other, not one call against another.

        Returns
        -------
        self : FFClassifier
            The updated classifier.
        """
        if not hasattr(self, "core_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: one call "
                "sees only part of the data, not its class frequencies. Compute "
                "them on a large enough sample of the targets with "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y) and pass the resulting {class: weight} "
                "dict as class_weight."
            )
        return self._fit(
            X, y, classes=classes, incremental=True, sample_weight=sample_weight
        )

    def _row_weights(self, X, y, labels, sample_weight) -> np.ndarray | None:
        """Each row's weight, ``sample_weight`` times the ``class_weight`` of
        its label, scaled so that the largest is 1; None when every row weighs
        the same (weights act only relative to each other within a batch)."""
        if sample_weight is None and self.class_weight is None:
            return None
        weights = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        cw = self.class_weight
        if isinstance(cw, dict):
            known = set(labels.tolist())
            unknown = [k for k in cw if k not in known]
            if unknown:
                raise ValueError(
                    f"class_weight has labels {unknown} that are not in classes_ "
                    f"{labels.tolist()}."
                )
            bad = {
                k: v
                for k, v in cw.items()
                if isinstance(v, bool)
                or not isinstance(v, Real)
                or not (np.isfinite(v) and v >= 0)
            }
            if bad:
                raise ValueError(
                    f"class_weight must map classes to finite numbers >= 0; got {bad}."
                )
            classes = labels
            per_class = compute_class_weight(cw, classes=classes, y=y)
        elif cw == "balanced":  # by the (weighted) class frequencies of y
            classes = np.unique(y)
            with np.errstate(divide="ignore"):
                per_class = compute_class_weight(
                    cw, classes=classes, y=y, sample_weight=weights
                )
        if cw is not None:
            with np.errstate(invalid="ignore"):
                # a class whose samples all weigh 0 has an infinite balanced
                # weight: its rows stay at 0
                scaled = weights * np.asarray(per_class)[np.searchsorted(classes, y)]
            weights = np.where(weights > 0, scaled, 0.0)
        if not np.any(weights > 0):
            raise ValueError(
                "sample_weight and class_weight give every sample a zero weight; "
                "at least one weight must be non-zero."
            )
        if np.all(weights == weights[0]):
            return None
        return weights / weights.max()

    def _fit_data(
        self, X, y, *, warm, classes, device, hold_out, seed, sample_weight=None
    ) -> FitData:
        (X, y), fitted = self._check_rows(X, y, reset=not warm)
        check_classification_targets(y)
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
        weights = self._row_weights(X, y, labels, sample_weight)
        if weights is not None and not warm and classes is None:
            weighted = np.unique(y[weights > 0])
            if len(weighted) < 2:
                raise ValueError(
                    f"{type(self).__name__} can't train when only one class has "
                    f"samples of non-zero weight (got only {weighted[0]!r})."
                )
        held_out = folds = None
        if hold_out and self._holds_out(X.shape[0]):
            X, y_enc, weights, held_out = self._hold_out_rows(
                X, y_enc, weights, labels, seed, device
            )
        elif hold_out and not warm and self.calibrate == "auto":
            folds = self._cross_fit_folds(X, y_enc, weights, seed)
        return FitData(
            source=ArraySource(X, device),
            targets=torch.as_tensor(y_enc, dtype=torch.int64),
            weights=None
            if weights is None
            else torch.as_tensor(weights, dtype=torch.float32),
            held_out=held_out,
            folds=folds,
            fitted=fitted,
        )

    def _hold_out_rows(self, X, y_enc, weights, labels, seed, device):
        """Split off the held-out rows (stratified): ``(X, y_enc, weights,
        held_out)``, the rows that train and a :class:`HeldOut` of the
        others. A split that can't give every class
        rows on both sides, or held-out weights that are all zero, raises a
        ValueError, except with ``calibrate="auto"`` alone, which then holds
        nothing out (``held_out`` None: no temperatures)."""
        n_rows = X.shape[0]
        n_held = self._n_held_out(n_rows)
        counts = np.bincount(y_enc, minlength=len(labels))
        present = np.flatnonzero(counts)
        problem = remedy = None
        if np.any(counts[present] < 2):
            single = labels.tolist()[present[np.argmin(counts[present])]]
            problem = f"class {single!r} has a single row"
            remedy = f"more rows of class {single!r}"
        elif n_held < len(present):
            problem = (
                f"{n_held} held-out rows of {n_rows} can't hold a row of each "
                f"of the {len(present)} classes"
            )
            remedy = "a larger validation_fraction or more rows"
        elif n_rows - n_held < len(present):
            problem = (
                f"the {n_rows - n_held} rows left to train can't hold a row of "
                f"each of the {len(present)} classes"
            )
            remedy = "a smaller validation_fraction or more rows"
        else:
            arrays = [X, y_enc] if weights is None else [X, y_enc, weights]
            parts = train_test_split(
                *arrays, test_size=n_held, random_state=seed, stratify=y_enc
            )
            if weights is not None and not np.any(parts[5] > 0):
                problem = "the sample weights of the held-out rows are all zero"
                remedy = "another random_state"
        if problem is None:
            held_weights = None if weights is None else parts[5]
            held_out = HeldOut(ArraySource(parts[1], device), parts[3], held_weights)
            train_weights = None if weights is None else parts[4]
            return parts[0], parts[2], train_weights, held_out
        if not self.early_stopping and self.calibrate == "auto":
            return X, y_enc, weights, None  # train on every row, no temperatures
        settings = [
            name
            for name, on in [
                ("early_stopping", self.early_stopping),
                ("calibrate", self.calibrate is True),
            ]
            if on
        ]
        raise ValueError(
            f"{type(self).__name__} can't hold out rows for "
            f"{' and '.join(f'{name}=True' for name in settings)} "
            f"(validation_fraction={self.validation_fraction}): {problem}. "
            f"Use {remedy}, or set {' and '.join(f'{n}=False' for n in settings)}."
        )

    #: ``calibrate="auto"`` below ``_CALIBRATION_ROWS`` rows: the folds of
    #: cross-fitting, how many of them are scored (by a network each, trained
    #: on the other rows; one half scores almost as well as both: the
    #: benchmarks' history), and the fewest rows it needs (networks trained
    #: on halves of fewer rows are so much worse than the full one that
    #: their temperatures over-soften)
    _CROSS_FIT_FOLDS, _CROSS_FIT_NETWORKS, _CROSS_FIT_MIN_ROWS = 2, 1, 200

    def _cross_fit_folds(self, X, y_enc, weights, seed):
        """Stratified folds of the training rows for cross-fitting the
        temperatures (:class:`CrossFitFolds`), or None (no temperatures) when
        there are fewer than ``_CROSS_FIT_MIN_ROWS`` rows, a class has fewer
        rows than folds, a fold's network would train on fewer than two
        classes of non-zero weight, or its scored rows all weigh zero."""
        k = self._CROSS_FIT_FOLDS
        counts = np.bincount(y_enc)
        if len(y_enc) < self._CROSS_FIT_MIN_ROWS or np.any(counts[counts > 0] < k):
            return None
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed % 2**32)
        folds = list(splitter.split(np.zeros((len(y_enc), 1)), y_enc))
        folds = folds[: self._CROSS_FIT_NETWORKS]
        if weights is not None:
            for train, scored in folds:
                if len(np.unique(y_enc[train][weights[train] > 0])) < 2:
                    return None
                if not np.any(weights[scored] > 0):  # nothing to fit them on
                    return None
        return CrossFitFolds(X, y_enc, weights, folds)

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

    def _validation_score(self, core, held_out: HeldOut) -> float:
        """Accuracy on the held-out rows (weighted by their weights)."""
        logp = self._log_proba(core, held_out.source)
        correct = logp.argmax(axis=1) == held_out.targets
        if held_out.weights is None:
            return float(correct.mean())
        return float(np.average(correct, weights=held_out.weights))

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
        fitted = self._fitted_state("core_", "classes_", "temperatures_")
        core = fitted["core_"]
        source = self._predict_source(X, fitted)
        logp = self._log_proba(core, source, fitted["temperatures_"])
        return logp, fitted["classes_"]

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

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Confidence scores of the chosen ``readout``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            With two classes, the log-odds of ``classes_[1]`` against
            ``classes_[0]`` (positive where ``classes_[1]`` is predicted);
            with more, the log-probabilities of :meth:`predict_log_proba`.
            :meth:`predict` returns the class of the highest score.
        """
        log_proba, _ = self._predict_log_proba(X)
        if log_proba.shape[1] == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba

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
