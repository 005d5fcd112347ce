"""The shared estimator base: parameter constraints, the one fit template, the
warm-start checks, chunked prediction and the probability readouts.

Each estimator subclasses :class:`BaseFF` and fills its hooks:

``_fit_data(X, y, *, warm, classes, device, hold_out, seed, **fit_params)``
    Validate the input; return the training source and its targets (int64
    labels, or :class:`WeightedTargets` when the rows carry weights), an
    optional validation ``(source, targets)`` pair (or ``(source, targets,
    weights)``: rows held out when ``hold_out`` and ``_holds_out(n_rows)``),
    or :class:`CrossFitFolds` (the readout temperatures are then fitted by
    networks trained on the folds), and the fitted attributes the data
    defines (``classes_``, a vocabulary), published when ``fit`` ends.
    ``fit_params`` are the extra arguments of ``fit`` (the classifiers'
    ``sample_weight``).
``_build_core(fitted, seed)``
    A new core (:mod:`skff.core`) for those attributes.
``_configure_core(core)``
    Give the core the estimator's current settings (the base sets the
    objective; the recurrent classifier also sets its dynamics).
``_validation_score(core, source, targets[, weights])``
    The early-stopping score, higher is better.

The estimators whose networks are stacks of layers read their widths from
:meth:`BaseFF._layer_sizes` (``hidden_layer_sizes``, or ``n_layers`` layers
of ``hidden_size`` units).
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import joblib
import numpy as np
import sklearn
import torch
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._device import (
    autocast,
    available_memory,
    device_memory_hint,
    is_allocation_failure,
    resolve_device,
)
from ._persistence import PersistenceMixin
from ._sources import ArraySource
from ._training import import_cleanly, run_epochs
from .core import Objective
from .exceptions import DivergenceError

# rows x labels x width of the widest layer handled at once when predicting
_PREDICT_ELEMENTS = 1 << 23
# activations held by one block of (row, label) pairs when scoring labels on
# the CPU: small enough for the block's element-wise work to stay in cache
_PAIR_ELEMENTS = 1 << 19
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


def _comparable(value: Any) -> Any:
    """A parameter value that compares by content: sequences (lists, tuples,
    arrays) as lists."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_comparable(v) for v in value]
    return value


def _numpy(values) -> np.ndarray:
    """A tensor (on any device) or array as a numpy array."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


_LIBRARIES = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (sklearn, joblib, sys.modules[__package__])
)


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of a warning raised by the caller of this function
    that points at the first frame outside skff and scikit-learn (the
    user's call)."""
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_LIBRARIES):
        frame, level = frame.f_back, level + 1
    return level


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


@dataclass
class WeightedTargets:
    """Training targets whose rows carry weights (returned by ``_fit_data``).

    ``labels`` holds the int64 label of every row, ``weights`` its float32
    weight; the cores make every loss of a mini-batch a weighted mean over
    its rows."""

    labels: torch.Tensor
    weights: torch.Tensor


@dataclass
class CrossFitFolds:
    """What ``_fit_data`` returns in place of held-out rows when the readout
    temperatures are cross-fitted: the training rows ``X`` (not copied),
    their int64 labels ``y`` and float ``weights`` (or None), and
    ``folds``, pairs of row indices ``(train, scored)`` that score every
    row once, by a network trained without it."""

    X: Any
    y: np.ndarray
    weights: np.ndarray | None
    folds: list


@dataclass
class _History:
    """A fit's record, kept aside until it is published."""

    seed: int
    n_iter_: int
    loss_curve_: list
    validation_scores_: list | None
    best_validation_score_: float | None


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
        "hidden_layer_sizes": [
            None,
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
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
        "calibrate": ["boolean", StrOptions({"auto"})],
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
    _fixed_on_warm_start: tuple = ("n_layers", "hidden_size", "hidden_layer_sizes")

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

    @classmethod
    def _param_defaults(cls) -> dict:
        """The default of every constructor parameter."""
        params = inspect.signature(cls.__init__).parameters
        return {name: p.default for name, p in params.items() if name != "self"}

    def _layer_sizes(self) -> list:
        """The width of every hidden layer.

        ``hidden_layer_sizes`` when it is given (an int is one layer), else
        ``n_layers`` layers of ``hidden_size`` units. ``n_layers`` and
        ``hidden_size`` left at their defaults give way to
        ``hidden_layer_sizes``; changed to values that contradict it
        (another number of layers, another width), they raise a ValueError
        naming both.
        """
        given = self.hidden_layer_sizes
        if given is None:
            return [int(self.hidden_size)] * int(self.n_layers)
        sizes = [given] if isinstance(given, Integral) else given
        try:
            sizes = list(sizes)
        except TypeError:
            sizes = []
        if not sizes or not all(
            isinstance(h, Integral) and not isinstance(h, bool) and h >= 1
            for h in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a non-empty "
                f"sequence of positive integers, got {given!r}."
            )
        sizes = [int(h) for h in sizes]
        defaults = self._param_defaults()
        clashes = []
        if self.n_layers != defaults["n_layers"] and self.n_layers != len(sizes):
            clashes.append(f"n_layers={self.n_layers!r}")
        if self.hidden_size != defaults["hidden_size"] and any(
            h != self.hidden_size for h in sizes
        ):
            clashes.append(f"hidden_size={self.hidden_size!r}")
        if clashes:
            raise ValueError(
                f"hidden_layer_sizes={given!r} contradicts {' and '.join(clashes)}. "
                "hidden_layer_sizes sets every layer's width; leave n_layers and "
                "hidden_size at their defaults (or give them values that agree "
                "with it), or set hidden_layer_sizes=None to use them."
            )
        return sizes

    # -- the fit template ----------------------------------------------------------
    def _check_warm_start(self) -> None:
        built = getattr(self, "_built_with", None)
        if built is None:  # saved by skff 0.1.0: only the core's shapes are known
            return
        # a model saved before a parameter existed was built with its default
        defaults = self._param_defaults()
        built = {k: built.get(k, defaults[k]) for k in self._fixed_on_warm_start}
        fixed = list(self._fixed_on_warm_start)
        changed = []
        if "hidden_layer_sizes" in defaults and hasattr(self, "core_"):
            # the widths matter, not how they were spelled: n_layers=2 and
            # hidden_size=16 build the same network as hidden_layer_sizes=(16, 16)
            sizes = ("n_layers", "hidden_size", "hidden_layer_sizes")
            fixed = [k for k in fixed if k not in sizes]
            asked, has = self._layer_sizes(), list(self.core_.hidden_sizes)
            if asked != has:
                names = [
                    k
                    for k in sizes
                    if _comparable(getattr(self, k)) != _comparable(built[k])
                ]
                raise ValueError(
                    "warm_start/partial_fit continue training the same network, "
                    f"but {', '.join(names)} changed since it was built: its layer "
                    f"widths are {has}, the parameters now ask for {asked}. Set "
                    "warm_start=False to train a new one."
                )
        changed += [
            k for k in fixed if _comparable(getattr(self, k)) != _comparable(built[k])
        ]
        if changed:
            was = ", ".join(f"{k}={built[k]!r}" for k in changed)
            raise ValueError(
                "warm_start/partial_fit continue training the same network, but "
                f"{', '.join(changed)} changed since it was built (it has {was}). "
                "Set warm_start=False to train a new one."
            )

    def _fit(self, X, y, *, incremental: bool, classes=None, **fit_params):
        """Validate, build or reuse the core, train it, publish the result.

        ``incremental`` is ``partial_fit``: one epoch, the optimizers kept, no
        hold-out. A fit is *warm* when a core exists and ``warm_start`` or
        ``incremental`` asks to continue it. ``fit_params`` (the classifiers'
        ``sample_weight``) go to ``_fit_data``. The fitted attributes are
        published together when training ends, so predicting from another
        thread meanwhile uses the previous model whole.
        """
        if "hidden_layer_sizes" in self._get_param_names():
            self._layer_sizes()  # contradictory sizes fail before any state changes
        warm = hasattr(self, "core_") and (incremental or self.warm_start)
        if warm:
            self._check_warm_start()
        import_cleanly("torch._dynamo")  # what torch's optimizers import lazily
        device = resolve_device(self.device)
        seed = self._seed if warm else self._make_seed()
        source, targets, validation, fitted = self._fit_data(
            X,
            y,
            warm=warm,
            classes=classes,
            device=device,
            hold_out=not incremental,
            seed=seed,
            **fit_params,
        )
        if warm:
            core = self.core_.to(device)
            scores = self.validation_scores_
            record = _History(
                seed=seed,
                n_iter_=self.n_iter_ if incremental else 0,
                loss_curve_=list(self.loss_curve_),
                validation_scores_=None if scores is None else list(scores),
                best_validation_score_=self.best_validation_score_,
            )
        else:
            core = self._new_core(fitted, seed, device)
            fitted["_built_with"] = {
                k: getattr(self, k) for k in self._fixed_on_warm_start
            }
            record = _History(seed, 0, [], None, None)
        if (
            validation is not None
            and self.early_stopping
            and record.validation_scores_ is None
        ):
            record.validation_scores_ = []
        self._ready_to_train(core, reset=not incremental or not core.is_configured)
        weights = None
        if isinstance(targets, WeightedTargets):
            targets, weights = targets.labels, targets.weights
        try:
            run_epochs(
                self,
                core,
                source,
                targets,
                1 if incremental else self._n_epochs(len(source)),
                validation=validation if self.early_stopping else None,
                history=record,
                weights=weights,
            )
        except (KeyboardInterrupt, DivergenceError, MemoryError) as exc:
            # keep what was learned, if anything was, and let the caller
            # (an interactive user, or a model search) see the interruption
            if warm or record.n_iter_ > 0:
                if isinstance(exc, KeyboardInterrupt):
                    warnings.warn(
                        f"Training interrupted after {record.n_iter_} epoch(s); "
                        f"{type(self).__name__} keeps the weights of the last "
                        "completed batch.",
                        UserWarning,
                        stacklevel=_caller_stacklevel(),
                    )
                if "readout" in self._get_param_names():
                    fitted["temperatures_"] = None  # not fitted to this network
                self._publish(core, record, fitted, device)
            raise
        if "readout" in self._get_param_names():
            # temperatures from held-out rows (early stopping's, or those
            # ``calibrate`` holds out), or from cross-fitted networks; a fit
            # without either (partial_fit, calibrate=False, a warm refit
            # below the hold-out size) leaves the readouts as they are
            fitted["temperatures_"] = None
            if isinstance(validation, CrossFitFolds):
                if not warm:
                    # the trained network is published whatever happens
                    # while the other networks train
                    try:
                        fitted["temperatures_"] = self._cross_fit_temperatures(
                            validation, fitted, seed, device
                        )
                    except BaseException:
                        self._publish(core, record, fitted, device)
                        raise
            elif validation is not None:
                fitted["temperatures_"] = self._fit_temperatures(core, *validation)
        self._publish(core, record, fitted, device)
        return self

    def _cross_fit_temperatures(self, folds, fitted, seed, device):
        """The readout temperatures of :meth:`_fit_temperatures`, fitted on
        every training row once: for each fold a new network trains on the
        other folds' rows (the fit's settings; an ``"auto"`` batch size and
        epoch count follow those rows) and scores the fold's rows, one
        network at a time. None (no temperatures, with a warning) when one
        diverges or does not fit in memory; an interruption warns too."""
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
        core = self._new_core(fitted, seed, device)
        self._ready_to_train(core, reset=True)
        source = ArraySource(folds.X[train], device)
        weights = None if folds.weights is None else folds.weights[train]
        run_epochs(
            self,
            core,
            source,
            torch.as_tensor(folds.y[train], dtype=torch.int64),
            self._n_epochs(len(source)),
            history=_History(seed, 0, [], None, None),
            weights=None
            if weights is None
            else torch.as_tensor(weights, dtype=torch.float32),
            report=False,
        )
        del source
        return self._readout_parts(core, ArraySource(folds.X[scored], device))

    def _ready_to_train(self, core, reset: bool) -> None:
        """Give ``core`` the estimator's settings and its optimizers' rate
        and penalty (new optimizers when ``reset``)."""
        self._configure_core(core)
        core.configure_training(
            learning_rate=self.learning_rate_init, alpha=self.alpha, reset=reset
        )

    def _n_epochs(self, n_rows: int) -> int:
        """Epochs of one ``fit`` on ``n_rows`` training rows: ``max_iter``."""
        return self.max_iter

    #: ``calibrate="auto"`` holds out rows from this many training rows on;
    #: without early stopping it holds out at most ``_CALIBRATION_HELD_OUT``
    _CALIBRATION_ROWS, _CALIBRATION_HELD_OUT = 10_000, 2_000

    def _holds_out(self, n_rows: int) -> bool:
        """Whether a fit on ``n_rows`` rows holds out some of them
        (``_fit_data`` asks, unless ``partial_fit`` forbids it): for early
        stopping, or for the temperatures (``calibrate``, where the estimator
        has it)."""
        calibrate = getattr(self, "calibrate", False)
        if calibrate == "auto":
            calibrate = n_rows >= self._CALIBRATION_ROWS
        return bool(self.early_stopping or calibrate)

    def _n_held_out(self, n_rows: int, rounding=math.ceil) -> int:
        """How many of ``n_rows`` rows are held out: ``validation_fraction``
        of them (rounded by ``rounding``), at most ``_CALIBRATION_HELD_OUT``
        when they only fit temperatures."""
        n_held = int(rounding(self.validation_fraction * n_rows))
        if self.early_stopping:
            return n_held
        return min(n_held, self._CALIBRATION_HELD_OUT)

    def _batch_rows(self, n_rows: int) -> int:
        """Rows of a mini-batch when training on ``n_rows`` rows:
        ``batch_size``, clipped to ``n_rows``."""
        return min(self.batch_size, n_rows)

    #: The parameters that set the size of the weights, named in memory errors.
    _size_params: tuple = ("hidden_size", "n_layers")

    def _memory_error(self, device, detail: str = "") -> MemoryError:
        params = self._size_params
        if getattr(self, "hidden_layer_sizes", None) is not None:
            params = ("hidden_layer_sizes",)  # it sets the widths
        sizes = ", ".join(f"{k}={getattr(self, k)!r}" for k in params)
        names = " or ".join(params)
        return MemoryError(
            f"{type(self).__name__} with {sizes} and batch_size={self.batch_size!r} "
            f"does not fit in the memory of {device}{detail}. Lower batch_size "
            f"(the activations) or {names} (the weights), or train on another "
            "device."
        )

    def _new_core(self, fitted: dict, seed: int, device):
        """Build the core once it is known that training it fits in memory:
        its weights, their gradients and two Adam moments (4 copies), and a
        batch's activations for every positive and negative row. The weights
        are counted on torch's ``meta`` device, which allocates nothing."""
        with torch.device("meta"):
            shape = self._build_core(fitted, seed)
        n_weights = sum(p.numel() for p in shape.parameters())
        # one negative per positive unless the estimator sets n_negatives
        rows = self._batch_rows(2**62) * (1 + getattr(self, "n_negatives", 1))
        need = 4 * (4 * n_weights + 3 * rows * sum(shape.hidden_sizes))
        free = available_memory(device)
        if free is not None and need > free:
            raise self._memory_error(
                device, f" (about {need / 2**30:.1f} GiB; {free / 2**30:.1f} GiB free)"
            )
        try:
            return self._build_core(fitted, seed).to(device)
        except RuntimeError as exc:
            if is_allocation_failure(exc):
                raise self._memory_error(device) from exc
            raise

    def _publish(self, core, record, fitted: dict, device) -> None:
        """Make the fitted state visible, all at once."""
        self.__dict__.update(
            {
                **fitted,
                "n_iter_": record.n_iter_,
                "loss_curve_": record.loss_curve_,
                "validation_scores_": record.validation_scores_,
                "best_validation_score_": record.best_validation_score_,
                "_seed": record.seed,
                "device_": str(device),
                "core_": core,
            }
        )

    # -- prediction ----------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        # n_features_in_ is set while validating the input, before training
        return "core_" in self.__dict__

    def _check_fitted(self) -> None:
        """Fitted, and parameters read at predict time valid."""
        check_is_fitted(self)
        self._validate_params()

    def _fitted_state(self, *names: str) -> dict:
        """The named fitted attributes, read together (``fit`` publishes them
        in one step), after :meth:`_check_fitted`."""
        self._check_fitted()
        state = self.__dict__.copy()
        # temperatures_ is absent from models saved before it existed
        return {
            name: state[name] if name != "temperatures_" else state.get(name)
            for name in names
        }

    def _core_device(self) -> torch.device:
        return next(self.core_.parameters()).device

    def _pair_elements(self, core) -> int:
        """Activations held for one (row, label) pair when scoring labels."""
        return max(core.hidden_sizes)

    @staticmethod
    def _chunk_rows(row_elements: int) -> int:
        """Rows predicted at once: within the memory budget, a multiple of 64."""
        rows = max(1, min(4096, _PREDICT_ELEMENTS // max(1, row_elements)))
        return -(-rows // _ROW_QUANTUM) * _ROW_QUANTUM

    def _map_rows(self, core, source, fn) -> np.ndarray:
        """Apply ``fn(tensor, n_valid) -> array`` to the rows of ``source`` in
        chunks.

        Every chunk is zero-padded to a multiple of 64 rows (its first
        ``n_valid`` rows are real): float32 matrix products then use the same
        kernels whatever the number of rows asked for, so a sample's
        prediction does not depend on which other samples are predicted with
        it.
        """
        n = len(source)
        rows = self._chunk_rows(core.n_classes * self._pair_elements(core))
        outs = []
        with torch.inference_mode(), device_memory_hint(self):
            for start in range(0, n, rows):
                idx = torch.arange(start, min(start + rows, n))
                xb = source.take(idx)
                pad = -len(idx) % _ROW_QUANTUM
                if pad:
                    xb = torch.cat([xb, xb.new_zeros(pad, xb.shape[1])])
                with autocast(self.precision, xb.device):
                    out = fn(xb, len(idx))
                outs.append(np.asarray(out)[: len(idx)])
        return np.concatenate(outs)

    def _readout_parts(self, core, source) -> dict:
        """The log-softmax of the logits ``self.readout`` reads
        (``"goodness"``: per-label goodness, ``"softmax"``: the head, both
        for ``"both"``), by name, for every row of ``source``."""
        # cache-sized blocks on the CPU; a GPU prefers fewer, larger ones
        cpu = core.head.weight.device.type == "cpu"
        budget = _PAIR_ELEMENTS if cpu else _PREDICT_ELEMENTS
        max_pairs = budget // self._pair_elements(core)
        both = ("goodness", "softmax")
        names = both if self.readout == "both" else (self.readout,)

        def scores(xb, n_valid):
            # the padding rows are not scored with every label
            if len(names) == 2:  # one call: a core may share the forward pass
                logits = core.readout_logits(xb, n_valid=n_valid, max_rows=max_pairs)
            elif names == ("goodness",):
                logits = [core.label_logits(xb, n_valid=n_valid, max_rows=max_pairs)]
            else:
                logits = [core.head_logits(xb)]
            parts = [log_softmax(z.double().cpu().numpy(), axis=1) for z in logits]
            return np.concatenate(parts, axis=1)

        out = self._map_rows(core, source, scores)
        return dict(zip(names, np.split(out, len(names), axis=1), strict=True))

    def _fit_temperatures(self, core, source, targets, weights=None) -> dict:
        """The temperature of the chosen readout (of all three with
        ``readout="both"``, which computes both parts anyway), fitted on
        held-out rows: the factor on the readout's log-probabilities that
        minimizes their (weighted) log-loss. A positive factor keeps every
        row's ranking of the classes, so calibrated predictions equal
        uncalibrated ones. A readout without a temperature (chosen with
        ``set_params`` after the fit) is not rescaled."""
        return self._temperatures_of(
            self._readout_parts(core, source), targets, weights
        )

    def _temperatures_of(self, parts, targets, weights=None) -> dict:
        """Temperatures of the readout parts (log-probabilities by name) of
        rows with these targets (and weights)."""
        if self.readout == "both":
            parts["both"] = (parts["goodness"] + parts["softmax"]) / 2
        y = _numpy(targets).astype(np.int64)
        w = None if weights is None else _numpy(weights).astype(np.float64)
        return {name: fit_temperature(logp, y, w) for name, logp in parts.items()}

    def _log_proba(self, core, source, temperatures=None) -> np.ndarray:
        """Log-probabilities of the classes of every row of ``source``, by
        ``self.readout``: the per-label goodness, the softmax head, or the
        normalized geometric mean of the two (the same ranking as their
        product, better calibrated); each times its fitted temperature when
        ``temperatures`` (from :meth:`_fit_temperatures`) are given."""
        parts = self._readout_parts(core, source)
        out = sum(parts.values()) / len(parts)
        if temperatures is not None:
            out = out * temperatures.get(self.readout, 1.0)
        out = log_softmax(out, axis=1)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite scores; the model "
                "may have diverged (refit with a smaller learning_rate_init)."
            )
        return out
