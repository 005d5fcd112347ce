"""The epoch loop shared by every estimator: learning-rate schedule, shuffling,
divergence checks with rollback, early stopping with the best weights kept,
and the progress report of ``verbose``. It knows nothing of the estimators:
what it needs of one comes in a :class:`LoopSettings`."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

# tqdm.auto has already imported tqdm.autonotebook (without its notebook-mode
# warning); its tqdm is the widget class in a Jupyter kernel, else tqdm.std's
from tqdm.autonotebook import tqdm as _notebook_or_std_tqdm
from tqdm.std import tqdm as _std_tqdm

from ._device import autocast, generators, is_allocation_failure
from .exceptions import DivergenceError


def import_cleanly(name: str) -> None:
    """Import module ``name``; if that is interrupted (Ctrl-C), remove every
    module it had half-imported, so that a later import starts afresh.

    torch imports its compiler (``torch._dynamo``, ``sympy``: a second or more)
    the first time any optimizer is made; an interrupt in the middle used to
    leave broken modules behind, and every later fit in the process failed.
    """
    if name in sys.modules:
        return
    before = set(sys.modules)
    try:
        importlib.import_module(name)
    except BaseException:
        for added in set(sys.modules) - before:
            del sys.modules[added]
        raise


def learning_rate_at(epoch: int, n_epochs: int, initial: float, schedule: str) -> float:
    """The learning rate of ``epoch`` (from 0) out of ``n_epochs``: constant, or
    with ``"linear"`` constant for the first half, then decaying towards zero."""
    lr = initial
    if schedule == "linear" and epoch >= n_epochs // 2:
        lr *= 2.0 * (n_epochs - epoch) / (n_epochs + 1)
    return lr


def state_copy(core) -> dict:
    """Detached copies of a core's parameters and buffers."""
    return {k: v.detach().clone() for k, v in core.state_dict().items()}


class EarlyStopping:
    """Tracks validation scores: the best one, its weights, and the patience.

    ``best`` starts from an earlier fit's best score (warm starts), so a new
    fit keeps only weights that beat it.
    """

    def __init__(self, tol: float, patience: float, best: float | None = None):
        self.tol, self.patience = tol, patience
        self.best, self.best_state, self._no_improve = best, None, 0

    def update(self, score: float, core) -> bool:
        """Record ``score`` of ``core``'s current weights; True means stop."""
        if self.best is None or score > self.best + self.tol:
            self._no_improve = 0
        else:
            self._no_improve += 1
        if self.best is None or score > self.best:
            self.best, self.best_state = score, state_copy(core)
        return self._no_improve >= self.patience


def _is_terminal(stream) -> bool:
    """Whether ``stream`` is an interactive terminal (False when it has no
    ``isatty`` or is closed)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class EpochProgress:
    """What ``verbose`` shows after every epoch, on ``sys.stderr``.

    In a terminal or a Jupyter notebook (where ``tqdm.auto`` chose its widget)
    a progress bar; elsewhere (a log file, a pipe, a CI log) one plain line per
    epoch with the losses and the epoch's time in seconds, since a bar's
    carriage-return updates would run together into one line there.

    Parameters
    ----------
    name : str
        The estimator's name, at the start of every line.
    n_epochs : int
        Epochs this call trains at most.
    first_epoch : int
        Number of the first epoch of this call (from 1; later ``partial_fit``
        calls continue the count).
    enabled : bool
        False shows nothing.
    """

    def __init__(self, name: str, n_epochs: int, first_epoch: int, enabled: bool):
        self.name, self.n_epochs, self.epoch = name, n_epochs, first_epoch - 1
        self.last_epoch = first_epoch - 1 + n_epochs
        self.stream = sys.stderr
        self.bar, self.lines = None, False
        if enabled:
            in_notebook = _notebook_or_std_tqdm is not _std_tqdm
            if in_notebook or _is_terminal(self.stream):
                self.bar = tqdm(
                    total=n_epochs, desc=name, unit="epoch", file=self.stream
                )
            else:
                self.lines = True

    def update(self, summary: str, seconds: float) -> None:
        """Report one completed epoch: ``summary`` (the losses) and its time."""
        self.epoch += 1
        if self.bar is not None:
            self.bar.set_postfix_str(summary, refresh=False)
            self.bar.update(1)
        elif self.lines:
            count = str(self.epoch)
            if self.n_epochs > 1:
                count += f"/{self.last_epoch}"
            print(
                f"{self.name} epoch {count}: {summary} time={seconds:.2f}s",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        """End the progress bar, if any."""
        if self.bar is not None:
            self.bar.close()


class OneProcess:
    """The epoch's mini-batches trained one after another in this process
    (the trainer of :class:`LoopSettings` when none is given; the others are
    in :mod:`skff.core.parallel`)."""

    def run_epoch(self, core, order, batch_rows, fetch, generator, seed, step_context):
        """One epoch over the rows ``order`` in mini-batches of ``batch_rows``
        (``fetch(idx, with_x) -> (x, y, weight)``), each step inside a new
        ``step_context()`` (autocast: its cast weights must not outlive an
        optimizer step); the losses summed over the rows (one per layer,
        then the head's when the core has one)."""
        total = None
        for start in range(0, len(order), batch_rows):
            xb, yb, wb = fetch(order[start : start + batch_rows], True)
            kwargs = {} if wb is None else {"weight": wb}
            with step_context():
                step_losses = core.train_step(xb, yb, generator, **kwargs)
            step_total = step_losses.float() * len(yb)
            total = step_total if total is None else total + step_total
        return total

    def synchronize(self, core) -> None:
        """Nothing to do: the whole network is here."""


@dataclass(frozen=True)
class LoopSettings:
    """What the epoch loop reads of the estimator, given explicitly.

    ``name`` heads the progress report and the errors; ``batch_rows`` is
    the mini-batch size; ``learning_rate_init`` and ``learning_rate`` the
    schedule (:func:`learning_rate_at`); ``precision`` the autocast mode;
    ``tol`` and ``patience`` early stopping's; ``verbose`` whether epochs
    are reported; ``memory_error(detail)`` builds the error raised when an
    allocation fails; ``trainer`` (None: one process) runs each epoch's
    mini-batches over several processes (:mod:`skff.core.parallel`)."""

    name: str
    batch_rows: int
    learning_rate_init: float
    learning_rate: str
    precision: str
    tol: float
    patience: float
    verbose: bool
    memory_error: Callable[[str], MemoryError]
    trainer: object = None


def run_epochs(
    settings: LoopSettings,
    core,
    source,
    y,
    n_epochs: int,
    *,
    history,
    score=None,
    weights=None,
) -> None:
    """Train ``core`` for up to ``n_epochs`` epochs over ``source``.

    ``history`` (with ``seed``, ``n_iter_``, ``loss_curve_``,
    ``validation_scores_`` and ``best_validation_score_``) is extended as
    epochs complete. ``y`` holds the int64 targets aligned with ``source``;
    ``score(core)``, when given, is the early-stopping score of the core
    after each epoch (higher is better; the best weights are kept).
    ``weights`` (optional, one float per row of ``source``) go to
    ``core.train_step(..., weight=...)`` with each mini-batch.
    """
    name = settings.name
    trainer = settings.trainer or OneProcess()
    device = source.device
    n = len(source)
    batch_size = settings.batch_rows
    y = y.to(device)
    if weights is not None:
        weights = weights.to(device)
    names = [f"layer {i}" for i in range(len(core.layers))]
    if getattr(core, "head", None) is not None:  # a readout head trains too
        names.append("head")
    stopping = EarlyStopping(
        settings.tol, settings.patience, history.best_validation_score_
    )
    progress = EpochProgress(name, n_epochs, history.n_iter_ + 1, settings.verbose)
    core.train()
    try:
        for epoch in range(n_epochs):
            started = time.perf_counter()
            at, length = core.begin_epoch(epoch, n_epochs)
            core.set_learning_rate(
                learning_rate_at(
                    at, length, settings.learning_rate_init, settings.learning_rate
                )
            )
            seed = (history.seed + 1_000_003 * (len(history.loss_curve_) + 1)) % 2**62
            gen_cpu, gen_dev = generators(seed, device)
            order = torch.randperm(n, generator=gen_cpu)
            snapshot = state_copy(core)

            def fetch(idx, with_x):
                rows = idx.to(device)
                xb = source.take(idx) if with_x else None
                wb = None if weights is None else weights[rows]
                return xb, y[rows], wb

            total = trainer.run_epoch(
                core,
                order,
                batch_size,
                fetch,
                gen_dev,
                seed,
                lambda: autocast(settings.precision, device),
            ).to(device)
            losses = (total / n).cpu().numpy().astype(float)
            if not np.all(np.isfinite(losses)):
                core.load_state_dict(snapshot)
                trainer.synchronize(core)
                where = names[int(np.flatnonzero(~np.isfinite(losses))[0])]
                raise DivergenceError(
                    f"{name} diverged in {where} at epoch {history.n_iter_ + 1}: its "
                    "loss is not finite. The model keeps the weights it had before "
                    "that epoch (a new model that diverges in its first epoch is "
                    "not kept). Try a smaller learning_rate_init (now "
                    f"{settings.learning_rate_init})."
                )
            history.loss_curve_.append(losses.tolist())
            history.n_iter_ += 1
            postfix = " ".join(
                f"{k}={v:.4f}" for k, v in zip(names, losses, strict=True)
            )
            stop = False
            if score is not None:
                trainer.synchronize(core)
                core.eval()  # as at prediction (batch normalization's averages)
                value = float(score(core))
                core.train()
                history.validation_scores_.append(value)
                postfix += f" val={value:.4f}"
                stop = stopping.update(value, core)
                history.best_validation_score_ = stopping.best
            progress.update(postfix, time.perf_counter() - started)
            if stop:
                break
    except (torch.OutOfMemoryError, RuntimeError) as exc:
        if not is_allocation_failure(exc):
            raise
        raise settings.memory_error(
            "; the model keeps the weights of the last completed batch"
        ) from exc
    finally:
        progress.close()
        core.eval()
    trainer.synchronize(core)
    if stopping.best_state is not None:
        core.load_state_dict(stopping.best_state)
