"""The shared estimator base: parameter constraints, the one fit template, the
warm-start checks, chunked prediction and the probability readouts.

Each estimator subclasses :class:`BaseFF` and fills its hooks:

``_fit_data(X, y, *, warm, classes, device, hold_out, seed)``
    Validate the input; return the training source and its targets, an optional
    validation ``(source, targets)`` pair, and the fitted attributes the data
    defines (``classes_``, a vocabulary), published when ``fit`` ends.
``_build_core(fitted, seed)``
    A new core (:mod:`skff.core`) for those attributes.
``_configure_core(core)``
    Give the core the estimator's current settings (the base sets the
    objective; the recurrent classifier also sets its dynamics).
``_validation_score(core, source, targets)``
    The early-stopping score, higher is better.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from scipy.special import log_softmax
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._device import autocast, device_memory_hint, resolve_device
from ._persistence import PersistenceMixin
from ._training import run_epochs
from .core import Objective

# rows x labels x width of the widest layer handled at once when predicting
_PREDICT_ELEMENTS = 1 << 23
# prediction chunks are padded to a multiple of this many rows
_ROW_QUANTUM = 64

#: Largest magnitude accepted in X. Goodness squares float32 activities, which
#: overflow (to inf, then NaN) for inputs beyond about 1e18.
MAX_ABS_INPUT = 1e15


def check_input_scale(X: Any) -> None:
    """Raise a ValueError if ``X`` (dense or sparse) holds values too large for
    float32 goodness."""
    values = X.data if hasattr(X, "data") and not isinstance(X, np.ndarray) else X
    if not values.size:
        return
    # max and min, not abs(X).max(): no temporary copy of X
    largest = max(float(values.max()), -float(values.min()))
    if largest > MAX_ABS_INPUT:
        raise ValueError(
            f"X has values up to {largest:.3g} in magnitude; skff computes "
            "goodness as squared float32 activities, which overflow for inputs "
            f"larger than about {MAX_ABS_INPUT:.0e}. Scale the features first "
            "(e.g. with StandardScaler or MinMaxScaler)."
        )


class BaseFF(PersistenceMixin, BaseEstimator):
    """Plumbing shared by every skff estimator (not for direct use).

    The parameters of the local objective (:class:`skff.core.Objective`) have
    the same names here and in the core; :meth:`_objective` builds it from
    them on every fit, so a core always holds the settings it was last trained
    with, and saves them.
    """

    _parameter_constraints: dict = {
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions({"symba", "logistic"})],
        "goodness": [StrOptions({"mean", "sum"})],
        "threshold": [Interval(Real, None, None, closed="neither")],
        "symba_scale": [Interval(Real, 0, None, closed="neither")],
        "label_strength": [Interval(Real, 0, None, closed="neither")],
        "negatives": [StrOptions({"hard", "uniform", "hardest"})],
        "n_negatives": [Interval(Integral, 1, None, closed="left")],
        "peer_normalization": [Interval(Real, 0, None, closed="left")],
        "readout": [StrOptions({"goodness", "softmax", "both"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"constant", "linear"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"inf"}),
        ],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str],
        "precision": [StrOptions({"float32", "bf16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Parameters that shape the network or its input: a warm start or
    #: ``partial_fit`` continues the same network, so they may not change.
    _fixed_on_warm_start: tuple = ("n_layers", "hidden_size")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.non_deterministic = resolve_device(self.device).type != "cpu"
        except (TypeError, ValueError):
            pass
        return tags

    # -- settings ------------------------------------------------------------------
    def _objective(self) -> Objective:
        """The local objective, from the parameters of the same names."""
        return Objective(**{name: getattr(self, name) for name in Objective.names()})

    def _make_seed(self) -> int:
        """A seed drawn from ``random_state`` (no global RNG is touched when it is
        an int or a Generator)."""
        rng = check_random_state(self.random_state)
        return int(rng.randint(np.iinfo(np.int32).max))

    def _configure_core(self, core) -> None:
        core.set_objective(self._objective())

    # -- the fit template ----------------------------------------------------------
    def _check_warm_start(self) -> None:
        built = getattr(self, "_built_with", None)
        if built is None:  # saved by skff 0.1.0: only the core's shapes are known
            return
        changed = [k for k in self._fixed_on_warm_start if getattr(self, k) != built[k]]
        if changed:
            was = ", ".join(f"{k}={built[k]!r}" for k in changed)
            raise ValueError(
                "warm_start/partial_fit continue training the same network, but "
                f"{', '.join(changed)} changed since it was built (it has {was}). "
                "Set warm_start=False to train a new one."
            )

    def _fit(self, X, y, *, incremental: bool, classes=None):
        """Validate, build or reuse the core, train it, publish the result.

        ``incremental`` is ``partial_fit``: one epoch, the optimizers kept, no
        hold-out. A fit is *warm* when a core exists and ``warm_start`` or
        ``incremental`` asks to continue it.
        """
        warm = hasattr(self, "core_") and (incremental or self.warm_start)
        if warm:
            self._check_warm_start()
        device = resolve_device(self.device)
        seed = self._seed if warm else self._make_seed()
        source, targets, validation, fitted = self._fit_data(
            X,
            y,
            warm=warm,
            classes=classes,
            device=device,
            hold_out=self.early_stopping and not incremental,
            seed=seed,
        )
        if warm:
            core = self.core_.to(device)
        else:
            core = self._build_core(fitted, seed).to(device)
            self._built_with = {k: getattr(self, k) for k in self._fixed_on_warm_start}
            self.n_iter_ = 0
            self.loss_curve_ = []
            self.validation_scores_ = None
            self.best_validation_score_ = None
        if not incremental:
            self.n_iter_ = 0
        if validation is not None and self.validation_scores_ is None:
            self.validation_scores_ = []
        self._configure_core(core)
        core.configure_training(
            learning_rate=self.learning_rate_init,
            alpha=self.alpha,
            reset=not incremental or not core.is_configured,
        )
        self._seed = seed
        self.device_ = str(device)
        for name, value in fitted.items():
            setattr(self, name, value)
        self.core_ = core
        run_epochs(
            self,
            core,
            source,
            targets,
            1 if incremental else self.max_iter,
            validation=validation,
        )
        return self

    # -- prediction ----------------------------------------------------------------
    def _check_fitted(self) -> None:
        """Fitted, and parameters read at predict time valid."""
        check_is_fitted(self)
        self._validate_params()

    def _core_device(self) -> torch.device:
        return next(self.core_.parameters()).device

    def _row_elements(self, core) -> int:
        """Activations per row when scoring every label (bounds chunk sizes)."""
        return core.n_classes * max(core.hidden_sizes)

    @staticmethod
    def _chunk_rows(row_elements: int) -> int:
        """Rows predicted at once: within the memory budget, a multiple of 64."""
        rows = max(1, min(4096, _PREDICT_ELEMENTS // max(1, row_elements)))
        return -(-rows // _ROW_QUANTUM) * _ROW_QUANTUM

    def _map_rows(self, core, source, fn) -> np.ndarray:
        """Apply ``fn`` (tensor -> array) to the rows of ``source`` in chunks.

        Every chunk is zero-padded to a multiple of 64 rows: float32 matrix
        products then use the same kernels whatever the number of rows asked
        for, so a sample's prediction does not depend on which other samples
        are predicted with it.
        """
        n = len(source)
        rows = self._chunk_rows(self._row_elements(core))
        outs = []
        with torch.inference_mode(), device_memory_hint(self):
            for start in range(0, n, rows):
                idx = torch.arange(start, min(start + rows, n))
                xb = source.take(idx)
                pad = -len(idx) % _ROW_QUANTUM
                if pad:
                    xb = torch.cat([xb, xb.new_zeros(pad, xb.shape[1])])
                with autocast(self.precision, xb.device):
                    out = fn(xb)
                outs.append(np.asarray(out)[: len(idx)])
        return np.concatenate(outs)

    def _log_proba(self, core, source) -> np.ndarray:
        """Log-probabilities of the classes of every row of ``source``, by
        ``self.readout``: the per-label goodness, the softmax head, or the
        normalized geometric mean of the two (the same ranking as their
        product, better calibrated)."""

        def scores(xb):
            parts = []
            if self.readout in ("goodness", "both"):
                logits = core.label_logits(xb)
                parts.append(log_softmax(logits.double().cpu().numpy(), axis=1))
            if self.readout in ("softmax", "both"):
                logits = core.head_logits(xb)
                parts.append(log_softmax(logits.double().cpu().numpy(), axis=1))
            return log_softmax(sum(parts) / len(parts), axis=1)

        out = self._map_rows(core, source, scores)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite scores; the model "
                "may have diverged (refit with a smaller learning_rate_init)."
            )
        return out
