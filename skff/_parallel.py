"""One fit over several processes: the ``parallel`` and ``n_workers``
parameters.

With ``parallel`` set, ``fit`` and ``partial_fit`` run in one of two ways:

* **inside a process group** (the script runs under ``torchrun``, or has
  called ``torch.distributed.init_process_group``): every process runs the
  same fit on the same data and the epoch loop divides each epoch between
  them (:mod:`skff.core.parallel`); when ``torchrun`` started the processes
  and no group exists yet, the estimator joins the one the environment
  describes;
* **alone**: the estimator starts ``n_workers`` local processes (the spawn
  start method; no launcher), each joins a group through a file in a
  temporary folder, fits, and the first sends the fitted estimator back.
  The parent watches them: a worker that dies ends the fit at once with
  :class:`~skff.exceptions.WorkerError` and stops the others; an error in
  a worker is raised again in the parent; Ctrl-C stops them all. Nothing
  changes on the estimator unless the fit succeeds.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from datetime import timedelta
from numbers import Integral

import torch
import torch.distributed as dist
from sklearn.utils._param_validation import Interval, StrOptions

from ._device import resolve_device
from .core.parallel import DataParallelTrainer, PipelineTrainer
from .exceptions import WorkerError

#: Seconds a process of a fit waits for another before the fit fails (a
#: worker that hangs; a worker that dies is noticed at once).
GROUP_TIMEOUT = 300

_TRAINERS = {"pipeline": PipelineTrainer, "data": DataParallelTrainer}
_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def launched_with_environment() -> bool:
    """Whether a launcher (``torchrun``) described a process group in the
    environment of this process."""
    return dist.is_available() and (
        dist.is_torchelastic_launched() or all(k in os.environ for k in _ENV)
    )


def _join_environment_group(backend: str) -> None:
    """``init_process_group`` from the environment, with clear errors."""
    address = f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}"
    if backend == "nccl":  # one GPU per process of a node
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    try:
        dist.init_process_group(
            backend, init_method="env://", timeout=timedelta(seconds=GROUP_TIMEOUT)
        )
    except (RuntimeError, ValueError) as exc:
        text = str(exc)
        if "EADDRINUSE" in text or "address already in use" in text.lower():
            raise ConnectionError(
                f"could not start the process group at {address}: the port is "
                "in use by another program; choose another MASTER_PORT "
                "(torchrun --master-port / --rdzv-endpoint)"
            ) from exc
        raise ConnectionError(
            f"could not join the process group at {address} (RANK="
            f"{os.environ.get('RANK')}, WORLD_SIZE={os.environ.get('WORLD_SIZE')}): "
            f"{text}"
        ) from exc


def _worker(rank: int, world: int, folder: str, threads: int, backend: str) -> None:
    """One local worker process: join the group, fit, and (the first) save
    the fitted estimator, with the warnings it raised; an error is saved
    for the parent to raise. Exits with 0 or 1."""
    torch.set_num_threads(threads)
    if backend == "nccl":
        torch.cuda.set_device(rank % torch.cuda.device_count())
    dist.init_process_group(
        backend,
        init_method="file://" + os.path.join(folder, "group"),
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=GROUP_TIMEOUT),
    )
    code = 0
    try:
        with open(os.path.join(folder, "job.pkl"), "rb") as f:
            estimator, method, args, kwargs = pickle.load(f)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(estimator, method)(*args, **kwargs)
        if rank == 0:
            raised = [(w.category, str(w.message)) for w in caught]
            path = os.path.join(folder, "result.pkl")
            with open(path + ".part", "wb") as f:
                pickle.dump((estimator, raised), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(path + ".part", path)
        dist.barrier()  # every worker is done before any leaves
    except BaseException as exc:
        code = 1
        traceback.print_exc()
        try:
            with open(os.path.join(folder, f"error-{rank}.pkl"), "wb") as f:
                pickle.dump(exc, f)
        except Exception:  # an error that does not pickle: the traceback will do
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    # leave without tearing the group down: a peer that leaves at the same
    # moment could make gloo's teardown abort this process
    os._exit(code)


def _stop(processes) -> None:
    """Terminate the processes still running (then kill those that stay)."""
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 5
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


class DistributedFitMixin:
    """``parallel`` and ``n_workers``: one fit over several processes (see
    the module's docstring)."""

    _parameter_constraints: dict = {
        "parallel": [StrOptions({"pipeline", "data"}), None],
        "n_workers": [Interval(Integral, 1, None, closed="left"), None],
    }

    #: Seconds between two looks at the local workers.
    _POLL = 0.05

    def _fit(self, X, y, *, incremental: bool, **kwargs):
        """The fit template (``BaseFF._fit``), in this process or, with
        ``parallel`` outside a process group, in new local workers."""
        if self.parallel is not None and not self._in_group() and self.n_workers != 1:
            # settings that can't build the network fail here, not in workers
            self._check_settings(getattr(X, "shape", (0, None))[1])
            kwargs["incremental"] = incremental
            return self._fit_in_workers("_fit", (X, y), kwargs)
        return super()._fit(X, y, incremental=incremental, **kwargs)

    def _n_blocks(self) -> int:
        """Layers (blocks) of the network the parameters describe."""
        raise NotImplementedError

    def _check_settings(self, n_features) -> None:
        super()._check_settings(n_features)
        if self.parallel != "pipeline":
            return
        workers = self.n_workers
        if workers is None:
            grouped = dist.is_available() and dist.is_initialized()
            workers = dist.get_world_size() if grouped else 2
        if workers > self._n_blocks():
            raise ValueError(
                f"parallel='pipeline' gives every worker at least one layer: "
                f"{workers} workers need at least {workers} layers; the network "
                f"has {self._n_blocks()}"
            )

    # -- inside a process group ---------------------------------------------------
    def _backend(self) -> str:
        return "nccl" if resolve_device(self.device).type == "cuda" else "gloo"

    def _in_group(self) -> bool:
        """Whether this fit runs inside a process group (joined here when a
        launcher described one); checks its size against ``n_workers``."""
        if not dist.is_available():
            raise RuntimeError("this build of torch has no torch.distributed")
        if not dist.is_initialized():
            if not launched_with_environment():
                return False
            _join_environment_group(self._backend())
        world = dist.get_world_size()
        if self.n_workers is not None and self.n_workers != world:
            raise ValueError(
                f"n_workers={self.n_workers}, but the process group this fit runs "
                f"in has {world} processes; set n_workers=None (the group's size) "
                f"or launch {self.n_workers} processes"
            )
        return True

    def _loop_settings(self, n_rows: int, device, verbose=None):
        settings = super()._loop_settings(n_rows, device, verbose)
        if self.parallel is None or not dist.is_initialized():
            return settings
        return dataclasses.replace(
            settings,
            trainer=_TRAINERS[self.parallel](device),
            verbose=settings.verbose and dist.get_rank() == 0,
        )

    # -- starting local workers ---------------------------------------------------
    def _fit_in_workers(self, method: str, args: tuple, kwargs: dict):
        """Run ``method`` in ``n_workers`` new local processes and take the
        first one's fitted estimator."""
        import torch.multiprocessing as mp

        world = 2 if self.n_workers is None else self.n_workers
        backend = self._backend()
        if backend == "nccl" and torch.cuda.device_count() < world:
            raise ValueError(
                f"n_workers={world} processes on CUDA need {world} GPUs; this "
                f"machine has {torch.cuda.device_count()}"
            )
        threads = max(1, torch.get_num_threads() // world)
        folder = tempfile.mkdtemp(prefix="skff-workers-")
        try:
            with open(os.path.join(folder, "job.pkl"), "wb") as f:
                pickle.dump(
                    (self, method, args, kwargs), f, protocol=pickle.HIGHEST_PROTOCOL
                )
            context = mp.start_processes(
                _worker,
                args=(world, folder, threads, backend),
                nprocs=world,
                join=False,
                start_method="spawn",
            )
            try:
                self._watch(context.processes, folder)
            finally:
                _stop(context.processes)
            with open(os.path.join(folder, "result.pkl"), "rb") as f:
                fitted, raised = pickle.load(f)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.__dict__.update(fitted.__dict__)
        for category, message in raised:
            warnings.warn(message, category, stacklevel=3)
        return self

    def _watch(self, processes, folder: str) -> None:
        """Wait for the workers; on the first failure raise its error (a
        worker that died without one: :class:`WorkerError`)."""
        name = type(self).__name__
        while True:
            codes = [p.exitcode for p in processes]
            if all(c == 0 for c in codes):
                return
            failed = [r for r, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                break
            time.sleep(self._POLL)
        time.sleep(self._POLL)  # let a peer's failure that caused this one show
        codes = [p.exitcode for p in processes]
        errors = {}
        for r, code in enumerate(codes):
            path = os.path.join(folder, f"error-{r}.pkl")
            if code not in (None, 0) and os.path.exists(path):
                try:
                    with open(path, "rb") as f:
                        errors[r] = pickle.load(f)
                except Exception:
                    errors[r] = None
        died = [
            r for r, c in enumerate(codes) if c not in (None, 0) and r not in errors
        ]
        if died:
            r, code = died[0], codes[died[0]]
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            raise WorkerError(
                f"worker {r} of {len(processes)} of {name}.fit ended ({how}) "
                "before the fit finished; the other workers were stopped and the "
                "estimator keeps its previous state"
            )
        r = min(errors)
        if errors[r] is None:
            raise WorkerError(f"worker {r} of {name}.fit failed; see its traceback")
        raise errors[r]
