"""Fashion-MNIST: an IDX file reader and :func:`load_fashion_mnist`."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

#: Class names of Fashion-MNIST, indexed by label.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

_FASHION_MNIST_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
_FASHION_MNIST_ENV = "SKFF_FASHION_MNIST_DIR"
_FASHION_MNIST_FILES = {
    "X_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "X_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

# IDX type codes -> big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_FASHION_MNIST_DESCR = """\
Fashion-MNIST
=============

Zalando's article images: 28x28 grey-scale pictures of clothing in 10 classes,
a drop-in replacement for MNIST (Xiao, Rasul & Vollgraf, 2017,
arXiv:1708.07747).  60,000 training and 10,000 test images, 6,000 / 1,000 per
class.  Each image is flattened row by row into 784 features.

Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.

Read from the IDX files of the Debian/Ubuntu package ``dataset-fashion-mnist``
(MIT licence).
"""


def _fashion_mnist_dir(data_home: str | os.PathLike[str] | None) -> Path:
    if data_home is not None:
        return Path(data_home)
    env = os.environ.get(_FASHION_MNIST_ENV)
    if env:
        return Path(env)
    return Path(_FASHION_MNIST_DEFAULT_DIR)


def _resolve_idx_file(directory: Path, gz_name: str) -> Path | None:
    """Return ``directory/gz_name``, or its un-gzipped twin, if either exists."""
    for candidate in (directory / gz_name, directory / gz_name[: -len(".gz")]):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (gzip-compressed if its name ends in ``.gz``)."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        # gzip.BadGzipFile is an OSError; a truncated stream raises EOFError.
        raise ValueError(f"{path}: not a readable gzip/IDX file ({exc})") from exc

    if len(raw) < 4:
        raise ValueError(f"{path}: file too short for an IDX header")
    zero1, zero2, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{path}: bad IDX magic number 0x{int.from_bytes(raw[:4], 'big'):08X}"
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    dtype = _IDX_DTYPES[type_code]
    expected = header_len + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: IDX file {what} (header says shape {shape}, "
            f"expected {expected} bytes, got {len(raw)})"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def load_fashion_mnist(
    *,
    data_home: str | os.PathLike[str] | None = None,
    return_X_y: bool = False,
    scale: bool = True,
) -> Bunch | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load the Fashion-MNIST dataset from local IDX files.

    The four gzip-compressed IDX files of the Debian/Ubuntu package
    ``dataset-fashion-mnist`` are parsed with numpy; nothing is downloaded or
    cached.  Un-gzipped files with the same names minus ``.gz`` are accepted
    too.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Directory holding ``train-images-idx3-ubyte.gz``,
        ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
        ``t10k-labels-idx1-ubyte.gz``.  If None, the environment variable
        ``SKFF_FASHION_MNIST_DIR`` is used when set, otherwise
        ``/usr/share/datasets/fashion-mnist``.
    return_X_y : bool, default=False
        If True, return ``(X_train, X_test, y_train, y_test)`` instead of a
        Bunch.
    scale : bool, default=True
        If True, images are returned as float32 scaled to ``[0, 1]`` (pixel
        value / 255).  If False, the raw uint8 pixel values are returned.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Returned when ``return_X_y`` is False, with attributes

        X_train : ndarray of shape (60000, 784)
            Training images, flattened row by row; float32 in ``[0, 1]``
            (or uint8 when ``scale=False``).
        X_test : ndarray of shape (10000, 784)
            Test images, same format.
        y_train : ndarray of shape (60000,)
            Training labels, int64 in ``0..9``.
        y_test : ndarray of shape (10000,)
            Test labels, int64 in ``0..9``.
        target_names : list of str
            The 10 class names, indexed by label.
        DESCR : str
            Description of the dataset.
    (X_train, X_test, y_train, y_test) : tuple of ndarray
        Returned when ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If any of the four files is missing.  The message explains how to
        install them.
    ValueError
        If a file is corrupt or truncated (not valid gzip, bad IDX magic
        number, size not matching its header), or if images and labels do not
        match.  The message names the file.

    Notes
    -----
    Loading takes about half a second (mostly gzip decompression).  The
    float32 training matrix needs about 188 MB of memory.

    Examples
    --------
    >>> from skff.datasets import load_fashion_mnist
    >>> X_train, X_test, y_train, y_test = load_fashion_mnist(
    ...     return_X_y=True)  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype, y_train[:5]  # doctest: +SKIP
    ((60000, 784), dtype('float32'), array([9, 0, 0, 3, 0]))
    """
    directory = _fashion_mnist_dir(data_home)
    paths: dict[str, Path] = {}
    missing: list[str] = []
    for key, name in _FASHION_MNIST_FILES.items():
        found = _resolve_idx_file(directory, name)
        if found is None:
            missing.append(name)
        else:
            paths[key] = found
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST files not found in {str(directory)!r}: "
            f"{', '.join(missing)}.  On Debian/Ubuntu install them with "
            "'apt-get install dataset-fashion-mnist' (files go to "
            f"{_FASHION_MNIST_DEFAULT_DIR}); otherwise set the environment "
            f"variable {_FASHION_MNIST_ENV} or pass data_home= to a folder "
            "holding the four files " + ", ".join(_FASHION_MNIST_FILES.values()) + "."
        )

    arrays: dict[str, np.ndarray] = {}
    for split in ("train", "test"):
        img_path, lab_path = paths[f"X_{split}"], paths[f"y_{split}"]
        images = _read_idx(img_path)
        labels = _read_idx(lab_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"{img_path}: expected a 3-d uint8 IDX image file, got "
                f"{images.ndim}-d {images.dtype}"
            )
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise ValueError(
                f"{lab_path}: expected a 1-d uint8 IDX label file, got "
                f"{labels.ndim}-d {labels.dtype}"
            )
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{img_path} holds {images.shape[0]} images but {lab_path} "
                f"holds {labels.shape[0]} labels"
            )
        if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
            raise ValueError(f"{lab_path}: label {labels.max()} out of range 0..9")
        X = images.reshape(images.shape[0], -1)
        if scale:
            X = X.astype(np.float32)
            X /= np.float32(255.0)
        arrays[f"X_{split}"] = X
        arrays[f"y_{split}"] = labels.astype(np.int64)

    if return_X_y:
        return (
            arrays["X_train"],
            arrays["X_test"],
            arrays["y_train"],
            arrays["y_test"],
        )
    return Bunch(
        X_train=arrays["X_train"],
        X_test=arrays["X_test"],
        y_train=arrays["y_train"],
        y_test=arrays["y_test"],
        target_names=list(FASHION_MNIST_CLASSES),
        DESCR=_FASHION_MNIST_DESCR,
    )
