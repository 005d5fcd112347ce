"""The shared estimator base: device, seeding, batching, the epoch loop with early
stopping and progress, prediction in chunks, and portable persistence.

Estimators subclass :class:`BaseFF`; they validate their input, build a core from
:mod:`skff.core` and hand it to :meth:`BaseFF._run_epochs`.
"""

import contextlib
import inspect
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from scipy.special import log_softmax
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm.auto import tqdm

from . import __version__
from .core import CORES
from .exceptions import DivergenceError, ModelFormatError

#: Version of the pickled state layout; bump when it changes.
STATE_FORMAT = 1

#: What a parameter added after a model was saved meant before it existed:
#: models saved before ``n_negatives`` trained with one negative per positive.
_VALUES_BEFORE_PARAMETER = {"n_negatives": 1}

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


def resolve_device(spec: str | torch.device) -> torch.device:
    """Turn a device string into an available :class:`torch.device`.

    ``"auto"`` picks CUDA, then Apple's MPS, then the CPU. Anything else must be
    a device torch knows and this machine has, or a ``ValueError`` says why.
    The estimators call it in ``fit`` with their ``device`` parameter.

    Parameters
    ----------
    spec : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` (case and
        surrounding spaces are ignored).

    Returns
    -------
    device : torch.device
        The device, available on this machine.

    Raises
    ------
    ValueError
        If the device is unknown or not available here.
    TypeError
        If ``spec`` is neither a string nor a ``torch.device``.

    Examples
    --------
    >>> from skff import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto").type in {"cpu", "cuda", "mps"}
    True
    """
    if isinstance(spec, torch.device):
        spec = str(spec)
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string such as 'cpu', got {spec!r}")
    name = spec.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"Unknown device {spec!r}; expected 'auto', 'cpu', 'cuda', 'cuda:N' "
            "or 'mps'."
        ) from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={spec!r} was requested but CUDA is not available on this "
                f"machine (torch {torch.__version__}). Use device='cpu' or 'auto'."
            )
        index = device.index or 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={spec!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
        return device
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device={spec!r} was requested but MPS is not available.")
        return device
    raise ValueError(
        f"Unsupported device {spec!r}; expected 'auto', 'cpu', 'cuda', 'cuda:N' or "
        "'mps'."
    )


class _device_memory_hint:
    """Turn a device out-of-memory error during prediction into a clear one."""

    def __init__(self, estimator):
        self.name = type(estimator).__name__

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, torch.OutOfMemoryError):
            raise MemoryError(
                f"{self.name} ran out of device memory while predicting; predict "
                "on fewer samples at a time, or move the model to the CPU by "
                "pickling and loading it."
            ) from exc
        return False


class BaseFF(BaseEstimator):
    """Plumbing shared by every skff estimator (not for direct use).

    Subclasses provide ``_build_core``, ``_validation_score`` and their own
    ``__init__``; this class owns the device, seeds, mini-batches, the epoch
    loop (learning-rate schedule, early stopping, divergence checks, Ctrl-C,
    progress bar) and persistence.
    """

    _parameter_constraints: dict = {
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"constant", "linear"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
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

    # -- device and seeds ----------------------------------------------------------
    def _make_seed(self) -> int:
        """A seed drawn from ``random_state`` (no global RNG is touched when it is
        an int or a Generator)."""
        rng = check_random_state(self.random_state)
        return int(rng.randint(np.iinfo(np.int32).max))

    @staticmethod
    def _generators(seed: int, device: torch.device):
        cpu = torch.Generator().manual_seed(seed)
        if device.type == "cpu":
            return cpu, cpu
        return cpu, torch.Generator(device=device).manual_seed(seed)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            tags.non_deterministic = resolve_device(self.device).type != "cpu"
        except (TypeError, ValueError):
            pass
        return tags

    def _autocast(self, device: torch.device):
        """Context for the matrix products: bfloat16 autocast with
        ``precision="bf16"`` (weights, optimizer state and losses stay float32)."""
        if self.precision == "bf16":
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # -- the epoch loop ------------------------------------------------------------
    def _configure_training(self, core, *, reset: bool) -> None:
        """Copy the loss options, which may change between warm-started fits,
        onto ``core`` and give it its optimizers (new ones with ``reset``)."""
        core.goodness_kind, core.loss_kind = self.goodness, self.loss
        core.threshold, core.alpha = float(self.threshold), float(self.symba_scale)
        core.peer_normalization = float(self.peer_normalization)
        core.configure_training(
            learning_rate=self.learning_rate_init,
            weight_decay=self.alpha,
            negatives=self.negatives,
            n_negatives=self.n_negatives,
            reset=reset or not core.is_configured,
        )

    def _reset_history(self) -> None:
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = None

    def _epoch_learning_rate(self, epoch: int, n_epochs: int) -> float:
        lr = self.learning_rate_init
        if self.learning_rate == "linear" and epoch >= n_epochs // 2:
            # constant for the first half, then linear decay towards zero
            lr *= 2.0 * (n_epochs - epoch) / (n_epochs + 1)
        return lr

    def _loss_names(self, core) -> list:
        return [f"layer {i}" for i in range(len(core.layers))] + ["head"]

    def _run_epochs(self, core, source, y, n_epochs: int, *, validation=None) -> None:
        """Train ``core`` for up to ``n_epochs`` epochs over ``source``.

        ``y`` is an int64 tensor of targets aligned with ``source``;
        ``validation`` an optional ``(source, y)`` pair scored after each epoch
        by ``self._validation_score`` for early stopping. Appends to
        ``loss_curve_`` / ``validation_scores_`` and advances ``n_iter_``.
        """
        device = source.device
        n = len(source)
        batch_size = min(self.batch_size, n)
        y = y.to(device)
        names = self._loss_names(core)
        best_state, no_improve = None, 0
        n_no_change = (
            np.inf if self.n_iter_no_change == "inf" else self.n_iter_no_change
        )
        bar = tqdm(
            total=n_epochs,
            desc=type(self).__name__,
            unit="epoch",
            disable=not self.verbose,
            leave=True,
        )
        core.train()
        try:
            for epoch in range(n_epochs):
                core.set_learning_rate(self._epoch_learning_rate(epoch, n_epochs))
                seed = (self._seed + 1_000_003 * (len(self.loss_curve_) + 1)) % 2**62
                gen_cpu, gen_dev = self._generators(seed, device)
                order = torch.randperm(n, generator=gen_cpu)
                snapshot = {k: v.detach().clone() for k, v in core.state_dict().items()}
                total = torch.zeros(len(names), device=device)
                for start in range(0, n, batch_size):
                    idx = order[start : start + batch_size]
                    xb = source.take(idx)
                    yb = y[idx.to(device)]
                    with self._autocast(device):
                        step_losses = core.train_step(xb, yb, gen_dev)
                    total += step_losses.float() * len(idx)
                losses = (total / n).cpu().numpy().astype(float)
                if not np.all(np.isfinite(losses)):
                    core.load_state_dict(snapshot)
                    where = names[int(np.flatnonzero(~np.isfinite(losses))[0])]
                    raise DivergenceError(
                        f"{type(self).__name__} diverged in {where} at epoch "
                        f"{self.n_iter_ + 1}: its loss is not finite. The model keeps "
                        "the weights it had before that epoch. Try a smaller "
                        f"learning_rate_init (now {self.learning_rate_init})."
                    )
                self.loss_curve_.append(losses.tolist())
                self.n_iter_ += 1
                postfix = " ".join(
                    f"{k}={v:.4f}" for k, v in zip(names, losses, strict=True)
                )
                stop = False
                if validation is not None:
                    score = float(self._validation_score(core, *validation))
                    core.train()
                    self.validation_scores_.append(score)
                    postfix += f" val={score:.4f}"
                    if (
                        self.best_validation_score_ is None
                        or score > self.best_validation_score_ + self.tol
                    ):
                        no_improve = 0
                    else:
                        no_improve += 1
                    if (
                        self.best_validation_score_ is None
                        or score > self.best_validation_score_
                    ):
                        self.best_validation_score_ = score
                        best_state = {
                            k: v.detach().clone() for k, v in core.state_dict().items()
                        }
                    stop = no_improve >= n_no_change
                bar.set_postfix_str(postfix, refresh=False)
                bar.update(1)
                if stop:
                    break
        except torch.OutOfMemoryError as exc:
            raise MemoryError(
                f"{type(self).__name__} ran out of memory on {device} with "
                f"batch_size={self.batch_size} and hidden_size={self.hidden_size}. "
                "Lower batch_size (or hidden_size), or train on another device. "
                "The model keeps the weights of the last completed batch."
            ) from exc
        except KeyboardInterrupt:
            warnings.warn(
                f"Training interrupted after {self.n_iter_} epoch(s) of this call; "
                f"{type(self).__name__} keeps the weights of the last completed batch.",
                UserWarning,
                stacklevel=3,
            )
        finally:
            bar.close()
            core.eval()
        if best_state is not None:
            core.load_state_dict(best_state)

    # -- prediction ----------------------------------------------------------------
    def _core_device(self) -> torch.device:
        return next(self.core_.parameters()).device

    def _predict_rows(self, row_elements: int) -> int:
        rows = max(1, min(4096, _PREDICT_ELEMENTS // max(1, row_elements)))
        return -(-rows // _ROW_QUANTUM) * _ROW_QUANTUM

    def _map_rows(self, source, fn, row_elements: int = 1) -> np.ndarray:
        """Apply ``fn`` (tensor -> array) to the rows of ``source`` in chunks.

        Every chunk is zero-padded to a multiple of 64 rows: float32 matrix
        products then use the same kernels whatever the number of rows asked
        for, so a sample's prediction does not depend on which other samples
        are predicted with it.
        """
        n = len(source)
        rows = self._predict_rows(row_elements)
        outs = []
        with torch.inference_mode(), _device_memory_hint(self):
            for start in range(0, n, rows):
                idx = torch.arange(start, min(start + rows, n))
                xb = source.take(idx)
                pad = -len(idx) % _ROW_QUANTUM
                if pad:
                    xb = torch.cat([xb, xb.new_zeros(pad, xb.shape[1])])
                with self._autocast(xb.device):
                    out = fn(xb)
                outs.append(np.asarray(out)[: len(idx)])
        return np.concatenate(outs)

    def _log_scores_batch(self, xb: torch.Tensor) -> np.ndarray:
        """Log-probabilities of the classes for one chunk, by ``self.readout``:
        the per-label goodness, the softmax head, or the normalized geometric
        mean of the two (the same ranking as their product, better calibrated)."""
        core = self.core_
        parts = []
        if self.readout in ("goodness", "both"):
            parts.append(
                log_softmax(core.label_logits(xb).double().cpu().numpy(), axis=1)
            )
        if self.readout in ("softmax", "both"):
            parts.append(
                log_softmax(core.head_logits(xb).double().cpu().numpy(), axis=1)
            )
        out = log_softmax(sum(parts) / len(parts), axis=1)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError(
                f"{type(self).__name__} produced non-finite scores; the model "
                "may have diverged (refit with a smaller learning_rate_init)."
            )
        return out

    # -- persistence ---------------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        core = state.pop("core_", None)
        if core is not None:
            # numpy arrays and plain Python only: loads on any device, and with
            # skops without trusting torch types
            state["_core_state"] = {
                "class": type(core).__name__,
                "config": core.get_config(),
                "weights": {
                    k: v.detach().cpu().numpy() for k, v in core.state_dict().items()
                },
            }
        state["_skff_state_format"] = STATE_FORMAT
        state["_skff_version"] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        fmt = state.pop("_skff_state_format", None)
        saved_version = state.pop("_skff_version", "unknown")
        if fmt != STATE_FORMAT:
            raise ModelFormatError(
                f"This model was saved by skff {saved_version} with state format "
                f"{fmt}; skff {__version__} reads format {STATE_FORMAT}. Refit it, or "
                f"load it with skff {saved_version}."
            )
        core_state = state.pop("_core_state", None)
        super().__setstate__(state)
        # parameters added to the estimator after the model was saved (same
        # state format) take the value that reproduces how it was trained, or
        # else their defaults, so get_params and clone still work
        defaults = inspect.signature(type(self).__init__).parameters
        for name in self._get_param_names():
            if not hasattr(self, name):
                value = _VALUES_BEFORE_PARAMETER.get(name, defaults[name].default)
                setattr(self, name, value)
        if core_state is not None:
            core = CORES[core_state["class"]](**core_state["config"])
            core.load_state_dict(
                {
                    k: torch.from_numpy(np.array(v))
                    for k, v in core_state["weights"].items()
                }
            )
            self.core_ = core.eval()
