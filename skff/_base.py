"""BaseFF: what every skff estimator shares.

The shared parameter constraints, the one fit template, the warm-start
check, device, epochs and batches, the memory preflight, one
validate-and-wrap path for numeric rows, and chunked mapping over rows.
What only some estimators have lives in their families: layer widths
(:mod:`skff._mixins`), the labelled objective (same module), readouts,
temperatures and the hold-out policy (:mod:`skff._readouts`), labels and
weights (:mod:`skff._classifier_base`).

Each estimator subclasses :class:`BaseFF` and fills its hooks:

``_check_settings(n_features)``
    Fail on settings that can't build a network, before any state changes
    (``n_features`` is None where ``X`` has no 2-D shape yet).
``_fit_data(X, y, *, warm, classes, device, hold_out, seed, **fit_params)``
    Validate the input and return a :class:`FitData`: the training source,
    its int64 targets and optional row weights, optional held-out rows
    (:class:`HeldOut`, only when ``hold_out`` and ``_holds_out(n_rows)``)
    or cross-fitting folds, and the fitted attributes the data defines
    (``n_features_in_``, ``classes_``, a vocabulary), published when ``fit``
    ends. ``fit_params`` are the extra arguments of ``fit`` (the
    classifiers' ``sample_weight``).
``_build_core(fitted, seed)``
    A new core (:mod:`skff.core`) for those attributes.
``_configure_core(core)``
    Give the core the estimator's current settings (the base sets the
    objective; the recurrent classifier also sets its dynamics).
``_validation_score(core, held_out)``
    The early-stopping score of held-out rows, higher is better.
``_after_training(core, data, fitted, seed, device, warm)``
    Fitted attributes computed once the network is trained (the readout
    temperatures); ``_after_training_defaults`` are published instead when
    training or this step is cut short.
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import joblib
import numpy as np
import sklearn
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _training
from ._device import (
    autocast,
    available_memory,
    device_memory_hint,
    is_allocation_failure,
    resolve_device,
)
from ._persistence import PersistenceMixin
from ._sources import ArraySource
from ._training import LoopSettings, import_cleanly
from .core import ROW_QUANTUM, Objective, quantized_rows
from .exceptions import DivergenceError, ModelFormatError

#: activations (rows x the elements of a row) handled at once when predicting
_PREDICT_ELEMENTS = 1 << 23

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


@dataclass
class HeldOut:
    """Rows held out of training: their source, int64 targets (a tensor or
    an array) and optional float weights."""

    source: Any
    targets: Any
    weights: np.ndarray | None = None


@dataclass
class FitData:
    """What ``_fit_data`` returns: the rows that train (``source``), their
    int64 ``targets`` and float32 ``weights`` (a tensor, or None when every
    row weighs the same), the rows held out (:class:`HeldOut`) or the folds
    that cross-fit the readout temperatures (at most one of the two), and
    the fitted attributes the data defines."""

    source: Any
    targets: torch.Tensor
    weights: torch.Tensor | None = None
    held_out: HeldOut | None = None
    folds: Any = None
    fitted: dict = field(default_factory=dict)


@dataclass
class _History:
    """A fit's record, kept aside until it is published."""

    seed: int
    n_iter_: int
    loss_curve_: list
    validation_scores_: list | None
    best_validation_score_: float | None


#: The attributes scikit-learn's validation sets on the estimator it checks.
_FEATURE_ATTRIBUTES = ("n_features_in_", "feature_names_in_")
#: A value of ``fitted`` that removes the attribute when it is published.
_ABSENT = object()


class BaseFF(PersistenceMixin, BaseEstimator):
    """Plumbing shared by every skff estimator (not for direct use)."""

    #: Constraints of the parameters every estimator has; families and
    #: estimators add their own.
    _parameter_constraints: dict = {
        "loss": [StrOptions({"symba", "logistic"})],
        "goodness": [StrOptions({"mean", "sum"})],
        "threshold": [Interval(Real, None, None, closed="neither")],
        "symba_scale": [Interval(Real, 0, None, closed="neither")],
        "peer_normalization": [Interval(Real, 0, None, closed="left")],
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
    _fixed_on_warm_start: tuple = ()

    #: Fitted attributes that prediction reads; a saved model without one
    #: of them does not load.
    _required_fitted: tuple = ()

    #: Fitted attributes that models saved before they existed load with.
    _fitted_defaults: dict = {}

    #: Published in place of ``_after_training``'s attributes when training
    #: or that step is cut short.
    _after_training_defaults: dict = {}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.non_deterministic = resolve_device(self.device).type != "cpu"
        except (TypeError, ValueError):
            pass
        return tags

    # -- settings ------------------------------------------------------------------
    def _objective(self) -> Objective:
        """The local objective, from the parameters of the same names (the
        label settings keep their defaults; :class:`LabelledObjectiveMixin`
        sets them)."""
        return Objective(
            goodness=self.goodness,
            loss=self.loss,
            threshold=self.threshold,
            symba_scale=self.symba_scale,
            peer_normalization=self.peer_normalization,
        )

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

    def _check_settings(self, n_features: int | None) -> None:
        """Fail on settings that can't build a network (before any state
        changes); families and estimators extend it."""

    def _size_settings(self) -> dict:
        """The parameters that set the size of the weights, by name (named
        in memory errors)."""
        return {}

    def _negatives_per_row(self) -> int:
        """Negative rows trained beside each positive one."""
        return 1

    # -- validation of numeric rows ------------------------------------------------
    def _check_rows(self, X, y="no_validation", *, reset: bool, state=None):
        """``X`` (and ``y`` when passed; None is then an error) validated
        as scikit-learn does (dense float or CSR rows), with magnitudes that
        float32 goodness holds. With ``reset`` (a new fit) nothing is set on
        the estimator: the attributes validation defines
        (``n_features_in_``, ``feature_names_in_``) are returned as a dict
        for ``fit`` to publish with the rest; else that dict is empty.
        ``state`` (from :meth:`_fitted_state`) checks the rows against the
        feature attributes of that snapshot, not the live ones."""
        target = self
        if reset or state is not None:
            # validate on a stand-in: a failed fit changes nothing, and a
            # prediction checks the model it reads even while a refit publishes
            target = object.__new__(type(self))
            target.__dict__.update(
                {k: v for k, v in self.__dict__.items() if k not in _FEATURE_ATTRIBUTES}
            )
            if not reset:
                target.__dict__.update(
                    {k: state[k] for k in _FEATURE_ATTRIBUTES if k in state}
                )
        out = validate_data(
            target,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            reset=reset,
        )
        X = out[0] if isinstance(out, tuple) else out
        check_input_scale(X)
        features = {}
        if reset:
            features = {k: target.__dict__.get(k, _ABSENT) for k in _FEATURE_ATTRIBUTES}
        return out, features

    def _predict_source(self, X, state: dict) -> ArraySource:
        """The rows of ``X``, validated against the fitted ``state`` (from
        :meth:`_fitted_state`), on the device of its core."""
        X, _ = self._check_rows(X, reset=False, state=state)
        return ArraySource(X, next(state["core_"].parameters()).device, stream=True)

    # -- the fit template ----------------------------------------------------------
    def _check_warm_start(self, skip: tuple = ()) -> None:
        """Fail when a parameter of ``_fixed_on_warm_start`` (but those in
        ``skip``, checked by a family) changed since the network was
        built."""
        # a model saved before a parameter existed was built with its default
        defaults = self._param_defaults()
        built = {
            k: self._built_with.get(k, defaults[k]) for k in self._fixed_on_warm_start
        }
        changed = [
            k
            for k in self._fixed_on_warm_start
            if k not in skip and _comparable(getattr(self, k)) != _comparable(built[k])
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
        ``sample_weight``) go to ``_fit_data``. Nothing changes on the
        estimator until training ends: then the fitted attributes are
        published together, so a fit that fails on its input leaves the
        previous model as it was, and predicting from another thread during
        a new (cold) fit uses the previous model whole. A warm fit trains
        the published network in place: a prediction meanwhile reads
        weights partway through training.
        """
        shape = getattr(X, "shape", None)
        two_d = shape is not None and len(shape) == 2
        self._check_settings(shape[1] if two_d else None)
        warm = hasattr(self, "core_") and (incremental or self.warm_start)
        if warm:
            self._check_warm_start()
        import_cleanly("torch._dynamo")  # what torch's optimizers import lazily
        device = resolve_device(self.device)
        seed = self._seed if warm else self._make_seed()
        data = self._fit_data(
            X,
            y,
            warm=warm,
            classes=classes,
            device=device,
            hold_out=not incremental,
            seed=seed,
            **fit_params,
        )
        fitted = data.fitted
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
            core = self._new_core(fitted, seed, device, len(data.source))
            fitted["_built_with"] = {
                k: getattr(self, k) for k in self._fixed_on_warm_start
            }
            record = _History(seed, 0, [], None, None)
        stopping = data.held_out is not None and self.early_stopping
        if stopping and record.validation_scores_ is None:
            record.validation_scores_ = []
        self._ready_to_train(core, reset=not incremental or not core.is_configured)
        score = None
        if stopping:

            def score(trained):
                return self._validation_score(trained, data.held_out)

        try:
            _training.run_epochs(
                self._loop_settings(len(data.source), device),
                core,
                data.source,
                data.targets,
                1 if incremental else self._n_epochs(len(data.source)),
                history=record,
                score=score,
                weights=data.weights,
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
                fitted.update(self._after_training_defaults)
                self._publish(core, record, fitted, device)
            raise
        # the trained network is published whatever happens in the last step
        try:
            fitted.update(self._after_training(core, data, fitted, seed, device, warm))
        except BaseException:
            fitted.update(self._after_training_defaults)
            self._publish(core, record, fitted, device)
            raise
        self._publish(core, record, fitted, device)
        return self

    def _after_training(self, core, data, fitted, seed, device, warm) -> dict:
        """Fitted attributes computed from the trained network."""
        return {}

    def _loop_settings(self, n_rows: int, device, verbose=None) -> LoopSettings:
        """What the epoch loop reads of this estimator, for ``n_rows``
        training rows (``verbose`` overrides the parameter)."""
        patience = np.inf if self.n_iter_no_change == "inf" else self.n_iter_no_change
        return LoopSettings(
            name=type(self).__name__,
            batch_rows=self._batch_rows(n_rows),
            learning_rate_init=self.learning_rate_init,
            learning_rate=self.learning_rate,
            precision=self.precision,
            tol=self.tol,
            patience=patience,
            verbose=bool(self.verbose) if verbose is None else verbose,
            memory_error=lambda detail: self._memory_error(device, detail),
        )

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

    def _holds_out(self, n_rows: int) -> bool:
        """Whether a fit on ``n_rows`` rows holds out some of them
        (``_fit_data`` asks, unless ``partial_fit`` forbids it): for early
        stopping."""
        return bool(self.early_stopping)

    def _n_held_out(self, n_rows: int, rounding=math.ceil) -> int:
        """How many of ``n_rows`` rows are held out: ``validation_fraction``
        of them, rounded by ``rounding``."""
        return int(rounding(self.validation_fraction * n_rows))

    def _batch_rows(self, n_rows: int) -> int:
        """Rows of a mini-batch when training on ``n_rows`` rows:
        ``batch_size``, clipped to ``n_rows``."""
        return min(self.batch_size, n_rows)

    def _memory_error(self, device, detail: str = "") -> MemoryError:
        settings = self._size_settings()
        sizes = "".join(f"{k}={v!r}, " for k, v in settings.items())
        names = " or ".join(settings) or "the network's size"
        return MemoryError(
            f"{type(self).__name__} with {sizes}batch_size={self.batch_size!r} "
            f"does not fit in the memory of {device}{detail}. Lower batch_size "
            f"(the activations) or {names} (the weights), or train on another "
            "device."
        )

    def _new_core(self, fitted: dict, seed: int, device, n_rows: int):
        """Build the core once it is known that training it on ``n_rows``
        rows fits in memory: its weights, their gradients and two Adam
        moments (4 copies), and a batch's activations for every positive and
        negative row. The weights are counted on torch's ``meta`` device,
        which allocates nothing."""
        with torch.device("meta"):
            shape = self._build_core(fitted, seed)
        n_weights = sum(p.numel() for p in shape.parameters())
        rows = self._batch_rows(max(1, n_rows)) * (1 + self._negatives_per_row())
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
        state = {
            **fitted,
            "n_iter_": record.n_iter_,
            "loss_curve_": record.loss_curve_,
            "validation_scores_": record.validation_scores_,
            "best_validation_score_": record.best_validation_score_,
            "_seed": record.seed,
            "device_": str(device),
            "core_": core,
        }
        absent = {k for k, v in state.items() if v is _ABSENT}
        # one assignment: a reader sees the old state or the new one, whole
        self.__dict__ = {
            **{k: v for k, v in self.__dict__.items() if k not in absent},
            **{k: v for k, v in state.items() if k not in absent},
        }

    # -- prediction ----------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return "core_" in self.__dict__

    def _check_fitted(self) -> None:
        """Fitted, and parameters read at predict time valid."""
        check_is_fitted(self)
        self._validate_params()

    def _fitted_state(self, *names: str) -> dict:
        """The named fitted attributes and those of the features
        (``n_features_in_``, ``feature_names_in_``), read together (``fit``
        publishes them in one step), after :meth:`_check_fitted`."""
        self._check_fitted()
        state = self.__dict__.copy()
        names = (*names, *(k for k in _FEATURE_ATTRIBUTES if k in state))
        return {name: state[name] for name in names}

    def _check_loaded_core(self, core) -> None:
        super()._check_loaded_core(core)
        n_features = self.__dict__.get("n_features_in_", core.n_features)
        if n_features != core.n_features:
            raise ModelFormatError(
                f"The saved {type(self).__name__} has n_features_in_={n_features} "
                f"but its network reads {core.n_features} features."
            )

    def _row_elements(self, core) -> int:
        """Activations held for one row when predicting."""
        return max(core.hidden_sizes)

    @staticmethod
    def _chunk_rows(row_elements: int) -> int:
        """Rows predicted at once: within the memory budget, a multiple of
        ``ROW_QUANTUM``."""
        return quantized_rows(
            max(1, min(4096, _PREDICT_ELEMENTS // max(1, row_elements)))
        )

    def _map_rows(self, core, source, fn) -> np.ndarray:
        """Apply ``fn(tensor, n_valid) -> array`` to the rows of ``source`` in
        chunks.

        Every chunk is zero-padded to a multiple of ``ROW_QUANTUM`` rows (its
        first ``n_valid`` rows are real): float32 matrix products then use
        the same kernels whatever the number of rows asked for, so a sample's
        prediction does not depend on which other samples are predicted with
        it.
        """
        n = len(source)
        rows = self._chunk_rows(self._row_elements(core))
        result = np.empty(0)
        with torch.inference_mode(), device_memory_hint(self):
            for start in range(0, n, rows):
                idx = torch.arange(start, min(start + rows, n))
                xb = source.take(idx)
                pad = -len(idx) % ROW_QUANTUM
                if pad:
                    xb = torch.cat([xb, xb.new_zeros(pad, xb.shape[1])])
                with autocast(self.precision, xb.device):
                    out = np.asarray(fn(xb, len(idx)))[: len(idx)]
                if start == 0:  # the result is allocated once, not gathered
                    result = np.empty((n, *out.shape[1:]), dtype=out.dtype)
                result[start : start + len(idx)] = out
        return result
