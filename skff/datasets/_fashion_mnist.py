"""Fashion-MNIST: an IDX file reader and :func:`load_fashion_mnist`."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._common import _read_maybe_gzipped

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

_FASHION_MNIST_URL = "https://github.com/zalandoresearch/fashion-mnist"
_FASHION_MNIST_SUBSETS = ("train", "test", "all")
_IMAGE_SHAPE = (28, 28)

_FASHION_MNIST_DESCR = """\
Fashion-MNIST
=============

Zalando's article images: 28x28 grey-scale pictures of clothing in 10 classes,
a drop-in replacement for MNIST (Xiao, Rasul & Vollgraf, 2017,
arXiv:1708.07747).  60,000 training and 10,000 test images, 6,000 / 1,000 per
class.  Each image is flattened row by row into 784 features.

Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.

Read from the four IDX files of the Fashion-MNIST release (MIT licence), as
installed by the Debian/Ubuntu package ``dataset-fashion-mnist`` or
downloaded from the folder data/fashion of
https://github.com/zalandoresearch/fashion-mnist.
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
    raw = _read_maybe_gzipped(path, path.suffix == ".gz", "gzip/IDX file")

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


def _missing_files_message(directory: Path, missing: list[str]) -> str:
    all_files = ", ".join(_FASHION_MNIST_FILES.values())
    return (
        f"Fashion-MNIST files not found in {str(directory)!r}: "
        f"{', '.join(missing)}.  On Debian/Ubuntu install them with "
        "'apt-get install dataset-fashion-mnist' (files go to "
        f"{_FASHION_MNIST_DEFAULT_DIR}).  Elsewhere, download the four files "
        f"{all_files} from the folder data/fashion of {_FASHION_MNIST_URL} "
        "into a directory and pass it as data_home= or set the environment "
        f"variable {_FASHION_MNIST_ENV} to it.  "
        "(sklearn.datasets.fetch_openml('Fashion-MNIST') is another source of "
        "Fashion-MNIST, but this loader does not read it.)"
    )


def _load_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read and check one (images, labels) pair of IDX files."""
    images = _read_idx(images_path)
    labels = _read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{images_path}: expected a 3-d uint8 IDX image file, got "
            f"{images.ndim}-d {images.dtype}"
        )
    if images.shape[1:] != _IMAGE_SHAPE:
        raise ValueError(
            f"{images_path}: expected images of {_IMAGE_SHAPE[0]}x"
            f"{_IMAGE_SHAPE[1]} pixels, got {images.shape[1]}x{images.shape[2]}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{labels_path}: expected a 1-d uint8 IDX label file, got "
            f"{labels.ndim}-d {labels.dtype}"
        )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} "
            f"holds {labels.shape[0]} labels"
        )
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise ValueError(f"{labels_path}: label {labels.max()} out of range 0..9")
    return images, labels


def load_fashion_mnist(
    *,
    subset: str = "train",
    data_home: str | os.PathLike[str] | None = None,
    return_X_y: bool = False,
    scale: bool = True,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the Fashion-MNIST dataset from local IDX files.

    The gzip-compressed IDX files of the Fashion-MNIST release are parsed with
    numpy; nothing is downloaded or cached.  Un-gzipped files with the same
    names minus ``.gz`` are accepted too.  Only the two files of the requested
    subset are read (all four for ``subset="all"``).

    **Getting the files.**  On Debian/Ubuntu, ``apt-get install
    dataset-fashion-mnist`` puts them in ``/usr/share/datasets/fashion-mnist``,
    where this function looks by default.  On any other machine, download
    ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` from the
    folder ``data/fashion`` of the Fashion-MNIST repository
    (https://github.com/zalandoresearch/fashion-mnist) into one directory, and
    pass that directory as ``data_home`` or set the environment variable
    ``SKFF_FASHION_MNIST_DIR`` to it.  :func:`sklearn.datasets.fetch_openml`
    (``fetch_openml("Fashion-MNIST")``) is another source of Fashion-MNIST;
    this function does not read it.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which images to load: the 60,000 training images, the 10,000 test
        images, or all 70,000 (the training images first, then the test
        images).
    data_home : str or path-like, default=None
        Directory holding the IDX files.  If None, the environment variable
        ``SKFF_FASHION_MNIST_DIR`` is used when set, otherwise
        ``/usr/share/datasets/fashion-mnist``.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    scale : bool, default=True
        If True, images are returned as float32 scaled to ``[0, 1]`` (pixel
        value / 255).  If False, the raw uint8 pixel values are returned.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        Returned when ``return_X_y`` is False, with attributes

        data : ndarray of shape (n_samples, 784)
            The images, each flattened row by row; float32 in ``[0, 1]`` (or
            uint8 when ``scale=False``).  ``n_samples`` is 60,000 for
            ``subset="train"``, 10,000 for ``"test"`` and 70,000 for
            ``"all"``.
        target : ndarray of shape (n_samples,)
            The labels, int64 in ``0..9``.
        images : ndarray of shape (n_samples, 28, 28)
            The same images as ``data`` as 28x28 arrays: a view of ``data``,
            not a copy.
        feature_names : list of str
            ``"pixel_<row>_<column>"`` for each of the 784 columns of
            ``data``, from ``"pixel_0_0"`` to ``"pixel_27_27"`` (as in
            :func:`sklearn.datasets.load_digits`).
        target_names : list of str
            The 10 class names, indexed by label.
        DESCR : str
            Description of the dataset.
    (data, target) : tuple of ndarray
        Returned when ``return_X_y`` is True: the ``data`` and ``target``
        arrays described above.

    Raises
    ------
    ValueError
        If ``subset`` is not one of ``"train"``, ``"test"`` and ``"all"``.
        If a file is corrupt or truncated (not valid gzip, bad IDX magic
        number, size not matching its header), does not hold 28x28 uint8
        images or uint8 labels, or if images and labels do not match.  The
        message names the file.
    FileNotFoundError
        If a file the subset needs is missing.  The message says how to get
        the files.

    Notes
    -----
    Loading all 70,000 images takes about half a second (mostly gzip
    decompression).  The float32 training matrix needs about 188 MB of
    memory.

    Examples
    --------
    >>> from skff.datasets import load_fashion_mnist
    >>> X_train, y_train = load_fashion_mnist(
    ...     subset="train", return_X_y=True)  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype, y_train[:5]  # doctest: +SKIP
    ((60000, 784), dtype('float32'), array([9, 0, 0, 3, 0]))
    >>> test = load_fashion_mnist(subset="test")  # doctest: +SKIP
    >>> test.images.shape, test.target_names[9]  # doctest: +SKIP
    ((10000, 28, 28), 'Ankle boot')
    """
    if not isinstance(subset, str) or subset not in _FASHION_MNIST_SUBSETS:
        raise ValueError(
            f"subset must be one of 'train', 'test' or 'all', got {subset!r}"
        )
    splits = ("train", "test") if subset == "all" else (subset,)
    directory = _fashion_mnist_dir(data_home)
    paths: dict[str, Path] = {}
    missing: list[str] = []
    for split in splits:
        for key in (f"X_{split}", f"y_{split}"):
            name = _FASHION_MNIST_FILES[key]
            found = _resolve_idx_file(directory, name)
            if found is None:
                missing.append(name)
            else:
                paths[key] = found
    if missing:
        raise FileNotFoundError(_missing_files_message(directory, missing))

    images_parts, labels_parts = [], []
    for split in splits:
        images, labels = _load_split(paths[f"X_{split}"], paths[f"y_{split}"])
        images_parts.append(images)
        labels_parts.append(labels)
    if len(splits) == 1:
        images, labels = images_parts[0], labels_parts[0]
    else:
        images = np.concatenate(images_parts)
        labels = np.concatenate(labels_parts)

    data = images.reshape(images.shape[0], -1)
    if scale:
        data = data.astype(np.float32)
        data /= np.float32(255.0)
    target = labels.astype(np.int64)
    if return_X_y:
        return data, target
    n_rows, n_cols = _IMAGE_SHAPE
    return Bunch(
        data=data,
        target=target,
        images=data.reshape(data.shape[0], n_rows, n_cols),
        feature_names=[f"pixel_{i}_{j}" for i in range(n_rows) for j in range(n_cols)],
        target_names=list(FASHION_MNIST_CLASSES),
        DESCR=_FASHION_MNIST_DESCR,
    )
