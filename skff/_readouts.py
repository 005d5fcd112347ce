"""Readouts and their temperatures, for the estimators that score classes
(the classifiers and the language model).

A network reads classes by per-label goodness, through its softmax head, or
both (``readout``). ``calibrate`` fits a temperature to each readout on rows
the network did not train on: rows held out of training (from
``_CALIBRATION_ROWS`` training rows on, or early stopping's), or, below
that, the rows of folds scored by networks trained without them
(cross-fitting; the folds come from the estimator's ``_fit_data``).
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.utils._param_validation import StrOptions

from . import _training
from ._base import _PREDICT_ELEMENTS, _caller_stacklevel, _History
from ._sources import ArraySource
from .exceptions import DivergenceError

# activations held by one block of (row, label) pairs when scoring labels on
# the CPU: small enough for the block's element-wise work to stay in cache
_PAIR_ELEMENTS = 1 << 19


def fit_temperature(log_proba, y, sample_weight=None) -> float:
    """The factor ``t`` in ``(0, 1]`` that minimizes the log-loss of
    ``log_softmax(t * log_proba)`` for the labels ``y`` (column indices),
    searched on ``log t`` in [-7, 0].

    Temperatures only soften: held-out rows that are all classified right
    would ask for ever sharper probabilities, which a few rows cannot
    justify."""
    rows = np.arange(len(y))

    def loss(log_t):
        logp = log_softmax(np.exp(log_t) * log_proba, axis=1)[rows, y]
        return -np.average(logp, weights=sample_weight)

    best = minimize_scalar(loss, bounds=(-7.0, 0.0), method="bounded")
    # the bounded search stops just inside the bound; loss(0) may be best
    log_t = 0.0 if loss(0.0) <= best.fun else best.x
    return float(np.exp(log_t))


def _numpy(values) -> np.ndarray:
    """A tensor (on any device) or array as a numpy array."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


@dataclass
class CrossFitFolds:
    """Folds that cross-fit the readout temperatures: the training rows
    ``X`` (not copied), their int64 labels ``y`` and float ``weights`` (or
    None), and ``folds``, pairs of row indices ``(train, scored)``: a
    network trains on the rows ``train`` and scores the rows ``scored``."""

    X: Any
    y: np.ndarray
    weights: np.ndarray | None
    folds: list


class ReadoutMixin:
    """Readouts, temperatures and the hold-out policy of ``calibrate``."""

    _parameter_constraints: dict = {
        "readout": [StrOptions({"goodness", "softmax", "both"})],
        "calibrate": ["boolean", StrOptions({"auto"})],
    }

    #: ``calibrate="auto"`` holds out rows from this many training rows on;
    #: without early stopping it holds out at most ``_CALIBRATION_HELD_OUT``
    _CALIBRATION_ROWS, _CALIBRATION_HELD_OUT = 10_000, 2_000

    #: cross-fitting: a fold's network trains with the main fit's batch rows
    #: and epochs (True: on half the rows, half the main's steps) or with
    #: those of a fit on its own rows (False: the same below 2,500 rows;
    #: above, the smaller auto batches of its half take more steps)
    _CROSS_FIT_MAIN_SCHEDULE = True

    _fitted_defaults = {"temperatures_": None}  # models saved before them
    _after_training_defaults = {"temperatures_": None}

    def _holds_out(self, n_rows: int) -> bool:
        """Rows are held out for early stopping, or for the temperatures
        (``calibrate=True``, or ``"auto"`` from ``_CALIBRATION_ROWS``)."""
        calibrate = self.calibrate
        if calibrate == "auto":
            calibrate = n_rows >= self._CALIBRATION_ROWS
        return super()._holds_out(n_rows) or bool(calibrate)

    def _n_held_out(self, n_rows: int, rounding=math.ceil) -> int:
        """At most ``_CALIBRATION_HELD_OUT`` when they only fit
        temperatures."""
        n_held = super()._n_held_out(n_rows, rounding)
        if self.early_stopping:
            return n_held
        return min(n_held, self._CALIBRATION_HELD_OUT)

    def _row_elements(self, core) -> int:
        # every class of a row is scored
        return core.n_classes * self._pair_elements(core)

    def _pair_elements(self, core) -> int:
        """Activations held for one (row, label) pair when scoring labels."""
        return max(core.hidden_sizes)

    # -- temperatures --------------------------------------------------------------
    def _after_training(self, core, data, fitted, seed, device, warm) -> dict:
        """The temperatures of held-out rows (early stopping's, or those
        ``calibrate`` holds out), or of a cross-fitted network; None for a
        fit with neither (partial_fit, calibrate=False, a warm refit below
        the hold-out size)."""
        temperatures = None
        if data.folds is not None:
            if not warm:
                temperatures = self._cross_fit_temperatures(
                    data.folds, fitted, seed, device
                )
        elif data.held_out is not None:
            temperatures = self._fit_temperatures(core, data.held_out)
        return {"temperatures_": temperatures}

    def _fit_temperatures(self, core, held_out) -> dict:
        """The temperatures of ``core``'s readouts on the held-out rows."""
        parts = self._readout_parts(core, held_out.source)
        return self._temperatures_of(parts, held_out.targets, held_out.weights)

    def _cross_fit_temperatures(self, folds, fitted, seed, device):
        """The readout temperatures fitted on rows scored by networks that
        did not train on them: for each fold a new network trains on the
        fold's training rows (the fit's settings; an ``"auto"`` batch size
        and epoch count are the main fit's, see ``_CROSS_FIT_MAIN_SCHEDULE``)
        and scores its other rows, one network at a time. None (no
        temperatures, with a warning) when one diverges or does not fit in
        memory; an interruption warns too."""
        name = type(self).__name__
        parts = []
        try:
            for i, (train, scored) in enumerate(folds.folds):
                if self.verbose:  # one line for each network, not its epochs
                    print(
                        f"{name}: cross-fitting the readout temperatures, "
                        f"network {i + 1} of {len(folds.folds)}",
                        file=sys.stderr,
                        flush=True,
                    )
                fold_seed = (seed + 7_919 * (i + 1)) % 2**62
                parts.append(
                    self._cross_fit_one(folds, train, scored, fitted, fold_seed, device)
                )
        except (DivergenceError, MemoryError) as exc:
            problem = (
                "diverged" if isinstance(exc, DivergenceError) else "ran out of memory"
            )
            warnings.warn(
                f"{name} fitted no readout temperatures: a cross-fitted network "
                f"{problem}. The fitted network is not affected; set "
                "calibrate=False to skip the cross-fitting.",
                UserWarning,
                stacklevel=_caller_stacklevel(),
            )
            return None
        except KeyboardInterrupt:
            warnings.warn(
                f"Cross-fitting interrupted; {name} keeps its trained network, "
                "without readout temperatures.",
                UserWarning,
                stacklevel=_caller_stacklevel(),
            )
            raise
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        scored = np.concatenate([rows for _, rows in folds.folds])
        weights = None if folds.weights is None else folds.weights[scored]
        return self._temperatures_of(merged, folds.y[scored], weights)

    def _cross_fit_one(self, folds, train, scored, fitted, seed, device):
        """Train a new network on the rows ``train`` of ``folds`` and return
        its readout parts (:meth:`_readout_parts`) of the rows ``scored``."""
        # the schedule (batch rows, epochs) of the fold's rows, or the main fit's
        n_schedule = len(folds.y) if self._CROSS_FIT_MAIN_SCHEDULE else len(train)
        core = self._new_core(fitted, seed, device, n_schedule)
        source = ArraySource(folds.X[train], device)
        self._ready_to_train(core, reset=True)
        weights = None if folds.weights is None else folds.weights[train]
        _training.run_epochs(
            self._loop_settings(n_schedule, device, verbose=False),
            core,
            source,
            torch.as_tensor(folds.y[train], dtype=torch.int64),
            self._n_epochs(n_schedule),
            history=_History(seed, 0, [], None, None),
            weights=None
            if weights is None
            else torch.as_tensor(weights, dtype=torch.float32),
        )
        del source
        return self._readout_parts(core, ArraySource(folds.X[scored], device))

    def _temperatures_of(self, parts, targets, weights=None) -> dict:
        """The temperature of the chosen readout (of all three with
        ``readout="both"``, which computes both parts anyway), fitted on
        rows the network did not train on: the factor on the readout's
        log-probabilities (``parts``, by name) that minimizes their
        (weighted) log-loss. A positive factor keeps every row's ranking of
        the classes, so calibrated predictions equal uncalibrated ones. A
        readout without a temperature (chosen with ``set_params`` after the
        fit) is not rescaled."""
        if self.readout == "both":
            parts["both"] = (parts["goodness"] + parts["softmax"]) / 2
        y = _numpy(targets).astype(np.int64)
        w = None if weights is None else _numpy(weights).astype(np.float64)
        return {name: fit_temperature(logp, y, w) for name, logp in parts.items()}

    # -- readouts ------------------------------------------------------------------
    def _readout_names(self) -> tuple:
        """The parts ``self.readout`` reads."""
        both = ("goodness", "softmax")
        return both if self.readout == "both" else (self.readout,)

    def _part_scorer(self, core):
        """``scores(xb, n_valid)``: the log-softmax of every part of
        :meth:`_readout_names` for a chunk of rows, as a list of arrays."""
        # cache-sized blocks on the CPU; a GPU prefers fewer, larger ones
        cpu = core.head.weight.device.type == "cpu"
        budget = _PAIR_ELEMENTS if cpu else _PREDICT_ELEMENTS
        max_pairs = budget // self._pair_elements(core)
        names = self._readout_names()

        def scores(xb, n_valid):
            # the padding rows are not scored with every label
            if len(names) == 2:  # one call: a core may share the forward pass
                logits = core.readout_logits(xb, n_valid=n_valid, max_rows=max_pairs)
            elif names == ("goodness",):
                logits = [core.label_logits(xb, n_valid=n_valid, max_rows=max_pairs)]
            else:
                logits = [core.head_logits(xb)]
            return [log_softmax(z.double().cpu().numpy(), axis=1) for z in logits]

        return scores

    def _readout_parts(self, core, source) -> dict:
        """The log-softmax of the logits ``self.readout`` reads
        (``"goodness"``: per-label goodness, ``"softmax"``: the head, both
        for ``"both"``), by name, for every row of ``source``."""
        scores = self._part_scorer(core)
        names = self._readout_names()
        out = self._map_rows(
            core, source, lambda xb, n_valid: np.concatenate(scores(xb, n_valid), 1)
        )
        return dict(zip(names, np.split(out, len(names), axis=1), strict=True))

    def _log_proba(self, core, source, temperatures=None) -> np.ndarray:
        """Log-probabilities of the classes of every row of ``source``, by
        ``self.readout``: the per-label goodness, the softmax head, or the
        normalized geometric mean of the two (the same ranking as their
        product, better calibrated); each times its fitted temperature when
        ``temperatures`` (from :meth:`_temperatures_of`) are given. Computed
        a chunk of rows at a time: only the result is held whole."""
        scores = self._part_scorer(core)
        factor = None if temperatures is None else temperatures.get(self.readout, 1.0)

        def log_proba(xb, n_valid):
            parts = scores(xb, n_valid)
            out = sum(parts) / len(parts)
            if factor is not None:
                out = out * factor
            return log_softmax(out, axis=1)

        out = self._map_rows(core, source, log_proba)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite scores; the model "
                "may have diverged (refit with a smaller learning_rate_init)."
            )
        return out
