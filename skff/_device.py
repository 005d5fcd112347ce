"""Devices, precision and seeded generators: what the estimators need to run
a core on the CPU or a GPU."""

import contextlib

import torch


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


class device_memory_hint:
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


def available_memory(device: torch.device) -> int | None:
    """Bytes free for new tensors on ``device``, or None where unknown."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type == "cpu":
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
    return None


def is_allocation_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is torch failing to allocate memory (on any device)."""
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and (
        "can't allocate memory" in str(exc) or "out of memory" in str(exc)
    )


def autocast(precision: str, device: torch.device):
    """Context for the matrix products: bfloat16 autocast with
    ``precision="bf16"`` (weights, optimizer state and losses stay float32)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def generators(seed: int, device: torch.device) -> tuple:
    """A CPU generator (shuffling) and one on ``device`` (negatives), both
    seeded with ``seed``; the same object on the CPU."""
    cpu = torch.Generator().manual_seed(seed)
    if device.type == "cpu":
        return cpu, cpu
    return cpu, torch.Generator(device=device).manual_seed(seed)
