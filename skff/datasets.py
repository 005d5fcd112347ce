"""Dataset loaders and small text utilities for Forward-Forward experiments.

Nothing here downloads anything or writes to disk.  The loaders read data that
Debian/Ubuntu packages install system-wide:

=====================================  ================================
Loader                                 Debian/Ubuntu package
=====================================  ================================
:func:`load_fashion_mnist`             ``dataset-fashion-mnist``
:func:`load_devils_dictionary`         ``dict-devil``
:func:`load_bible_kjv`                 ``bible-kjv`` (+ ``bible-kjv-text``)
=====================================  ================================

:func:`load_default_text` needs no package: it uses the Python documentation
topics shipped with every CPython installation (``pydoc_data.topics``).
:func:`make_aesop_strings` turns any text into the fixed-length strings over a
30-symbol alphabet used for the "Aesop's fables" sequence experiment in
Hinton's Forward-Forward paper, and :func:`split_text` makes a contiguous
train/test split of one text.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import shutil
import subprocess
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "FASHION_MNIST_CLASSES",
    "load_fashion_mnist",
    "load_devils_dictionary",
    "load_bible_kjv",
    "load_default_text",
    "make_aesop_strings",
    "split_text",
]

# --------------------------------------------------------------------------- #
# Fashion-MNIST
# --------------------------------------------------------------------------- #

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


# --------------------------------------------------------------------------- #
# Text corpora
# --------------------------------------------------------------------------- #

_DEVIL_DEFAULT_PATH = "/usr/share/dictd/devil.dict.dz"
_DICTD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_DICTD_HEADER_PREFIX = "00database"  # index headwords of dictd metadata entries
_DEVIL_HEADWORD_RE = re.compile(r"\n\n(?=[A-Z][A-Z'\- ]*[A-Z],)")
_DEVIL_PREFACE_RE = re.compile(r"^[ \t]*PREFACE[ \t]*$", re.MULTILINE)


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _tidy_paragraphs(text: str) -> str:
    """Strip trailing blanks on lines, squeeze blank-line runs, strip ends."""
    lines = [line.rstrip() for line in _normalize_newlines(text).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _dictd_b64(s: str) -> int:
    value = 0
    for ch in s:
        value = value * 64 + _DICTD_B64.index(ch)
    return value


def _devil_from_index(raw: bytes, index_path: Path) -> tuple[str, str]:
    """Split a dictd database into (info entry, body) using its ``.index``."""
    info = ""
    ranges: list[tuple[int, int]] = []
    for lineno, line in enumerate(
        index_path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
    ):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise ValueError(f"{index_path}:{lineno}: malformed dictd index line")
        headword, offset, length = parts[0], parts[1], parts[2]
        try:
            start, size = _dictd_b64(offset), _dictd_b64(length)
        except ValueError as exc:
            raise ValueError(
                f"{index_path}:{lineno}: malformed dictd index line"
            ) from exc
        if start + size > len(raw):
            raise ValueError(
                f"{index_path}:{lineno}: entry {headword!r} points past the end "
                "of the data file (index and data do not match?)"
            )
        if headword.startswith(_DICTD_HEADER_PREFIX):
            if headword == _DICTD_HEADER_PREFIX + "info":
                info = raw[start : start + size].decode("utf-8", errors="replace")
            continue
        ranges.append((start, start + size))
    # Several headwords can share (or overlap) one entry: merge the ranges.
    ranges.sort()
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    body = "".join(
        raw[start:end].decode("utf-8", errors="replace") for start, end in merged
    )
    return info, body


def _devil_without_index(text: str) -> tuple[str, str]:
    """Heuristic split of the dictd text when no ``.index`` file is at hand."""
    text = _normalize_newlines(text)
    preface = _DEVIL_PREFACE_RE.search(text)
    search_from = preface.end() if preface else 0
    first = _DEVIL_HEADWORD_RE.search(text, search_from)
    if first is None:
        raise ValueError("could not find the first dictionary entry")
    info, body = text[: first.start()], text[first.end() :]
    # dictfmt appends a "00-database-alphabet" entry: the letters used.
    body = re.sub(r"\n[ \t]*[a-z]{10,}[ \t]*\n?\Z", "\n", body)
    return info, body


def load_devils_dictionary(*, path: str | os.PathLike[str] | None = None) -> str:
    """Return the text of Ambrose Bierce's *The Devil's Dictionary*.

    Reads the dictd database of the Debian/Ubuntu package ``dict-devil``
    (public domain text, 1911 edition).  The dictd metadata entries
    (``00-database-dictfmt``, ``00-database-url``, ``00-database-short``,
    ``00-database-info`` and ``00-database-alphabet``) are removed; of the
    ``info`` entry only Bierce's own preface is kept (from the line
    ``PREFACE`` on), without the Internet Wiretap transcription banner.  The
    result is the preface followed by the roughly 1000 entries from ABASEMENT to
    ZOOLOGY in file order.

    Parameters
    ----------
    path : str or path-like, default=None
        The dictd data file, dictzip-compressed (``.dz``, read with
        :mod:`gzip`) or plain.  Defaults to
        ``/usr/share/dictd/devil.dict.dz``.  If the matching index file
        (``devil.index`` next to ``devil.dict.dz``) exists it is used to
        locate the entries; otherwise the header entries are found
        heuristically.

    Returns
    -------
    text : str
        About 380,000 characters of ASCII text.  Line endings are ``"\\n"``,
        trailing blanks are removed from every line, runs of blank lines are
        squeezed to one blank line (paragraphs and entries are separated by
        exactly one blank line) and the original hard line wrapping and
        indentation (quoted verse, right-aligned attributions) are kept.  No
        trailing newline.

    Raises
    ------
    FileNotFoundError
        If the data file does not exist; the message says to run
        ``apt-get install dict-devil``.
    ValueError
        If the file is not valid gzip/dictzip or its entries cannot be found.

    Notes
    -----
    Loading takes about 10 ms.

    Examples
    --------
    >>> from skff.datasets import load_devils_dictionary
    >>> text = load_devils_dictionary()  # doctest: +SKIP
    >>> text[text.index("CYNIC, n."):][:60]  # doctest: +SKIP
    'CYNIC, n.  A blackguard whose faulty vision sees things as th'
    """
    data_path = Path(path) if path is not None else Path(_DEVIL_DEFAULT_PATH)
    if not data_path.is_file():
        raise FileNotFoundError(
            f"The Devil's Dictionary data file {str(data_path)!r} was not found. "
            "On Debian/Ubuntu install it with 'apt-get install dict-devil' "
            f"(it provides {_DEVIL_DEFAULT_PATH}), or pass path= to a copy of "
            "devil.dict.dz."
        )
    try:
        if data_path.suffix == ".dz" or data_path.name.endswith(".gz"):
            with gzip.open(data_path, "rb") as fh:
                raw = fh.read()
        else:
            raw = data_path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{data_path}: not a readable dictzip file ({exc})") from exc

    name = data_path.name
    for suffix in (".dict.dz", ".dict", ".dz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    index_path = data_path.with_name(name + ".index")
    try:
        if index_path.is_file():
            info, body = _devil_from_index(raw, index_path)
        else:
            info, body = _devil_without_index(raw.decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise ValueError(f"{data_path}: {exc}") from exc

    info = _normalize_newlines(info)
    preface = _DEVIL_PREFACE_RE.search(info)
    parts = []
    if preface is not None:
        parts.append("PREFACE\n\n" + info[preface.end() :].strip("\n"))
    parts.append(body)
    return _tidy_paragraphs("\n\n".join(parts))


_BIBLE_DEFAULT_PATH = "/usr/lib/bible.data"
_BIBLE_PROGRAM = "/usr/bin/bible"
_BIBLE_REF_RE = re.compile(r"^[1-3]?[A-Za-z]+\d+:\d+ ")


def load_bible_kjv(*, path: str | os.PathLike[str] | None = None) -> str:
    """Return the text of the King James Bible (Authorized Version).

    The text is stored by the Debian/Ubuntu packages ``bible-kjv`` /
    ``bible-kjv-text`` in a custom compressed format (``bible.data`` plus the
    concordance ``bible.data.conc``), so it is extracted by running the
    package's ``bible`` program non-interactively
    (``bible -f Gen1:1-Rev22:21``, which prints one verse per line prefixed by
    its reference).  The references are removed.

    Parameters
    ----------
    path : str or path-like, default=None
        The ``bible.data`` file; ``<path>.conc`` must exist next to it.
        Defaults to ``/usr/lib/bible.data``.

    Returns
    -------
    text : str
        The 31,102 verses from Genesis 1:1 to Revelation 22:21, one verse per
        line (joined with ``"\\n"``, no trailing newline), without verse
        references or book/chapter headings; runs of spaces inside a verse are
        squeezed to one.  About 4.0 million ASCII characters.

    Raises
    ------
    FileNotFoundError
        If the ``bible`` program, the data file or its concordance file is
        missing; the message says to run ``apt-get install bible-kjv``.
    RuntimeError
        If the ``bible`` program fails or prints something unexpected.

    Notes
    -----
    Takes about 0.1-0.2 s (one run of the external program).

    Examples
    --------
    >>> from skff.datasets import load_bible_kjv
    >>> text = load_bible_kjv()  # doctest: +SKIP
    >>> text.splitlines()[0]  # doctest: +SKIP
    'In the beginning God created the heaven and the earth.'
    """
    data_path = Path(path) if path is not None else Path(_BIBLE_DEFAULT_PATH)
    program = shutil.which("bible") or (
        _BIBLE_PROGRAM if os.access(_BIBLE_PROGRAM, os.X_OK) else None
    )
    conc_path = data_path.with_name(data_path.name + ".conc")
    problems = []
    if program is None:
        problems.append("the 'bible' program is not on PATH")
    for p in (data_path, conc_path):
        if not p.is_file():
            problems.append(f"{str(p)!r} does not exist")
    if problems:
        raise FileNotFoundError(
            "Cannot read the King James Bible: "
            + "; ".join(problems)
            + ".  On Debian/Ubuntu install it with 'apt-get install bible-kjv' "
            f"(which brings bible-kjv-text and {_BIBLE_DEFAULT_PATH})."
        )
    # "-p" takes a space-separated search path, so run inside the data
    # directory and search only there ("."): this also copes with spaces in
    # the directory name and never picks up a stray bible.data elsewhere.
    try:
        proc = subprocess.run(
            [program, "-f", "-p", ".", "-d", data_path.name, "Gen1:1-Rev22:21"],
            cwd=data_path.resolve().parent,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"running {program!r} failed: {exc}") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", errors="replace").strip()
        raise RuntimeError(
            f"{program!r} exited with status {proc.returncode} reading "
            f"{str(data_path)!r}: {err}"
        )
    out = _normalize_newlines(proc.stdout.decode("utf-8", errors="replace"))
    verses = []
    for line in out.split("\n"):
        if not line.strip():
            continue
        match = _BIBLE_REF_RE.match(line)
        if match is None:
            raise RuntimeError(
                f"unexpected output line from {program!r}: {line[:80]!r}"
            )
        verses.append(" ".join(line[match.end() :].split()))
    if not verses:
        raise RuntimeError(f"{program!r} printed no verses")
    return "\n".join(verses)


def load_default_text() -> list[str]:
    """Return the always-available default text corpus.

    The corpus is the Python language reference topics bundled with CPython
    (``pydoc_data.topics.topics``, what ``help("assert")`` etc. show), so it
    needs no download or system package: 79 documents on Python 3.11, about
    460,000 characters in all.

    Returns
    -------
    documents : list of str
        One document per topic, sorted by topic key for determinism.  Each
        document is lightly normalized: line endings become ``"\\n"``,
        trailing blanks are stripped from every line, runs of spaces *after*
        a line's leading indentation are squeezed to one space (indentation,
        e.g. of code examples, is kept), runs of blank lines are squeezed to
        one blank line, and leading/trailing blank lines are removed.  Empty
        documents are dropped.

    Notes
    -----
    The content depends on the Python version; it is deterministic for a
    given interpreter.

    Examples
    --------
    >>> from skff.datasets import load_default_text
    >>> docs = load_default_text()
    >>> isinstance(docs[0], str) and len(docs) > 10
    True
    """
    from pydoc_data.topics import topics

    documents = []
    for key in sorted(topics):
        lines = []
        for line in _normalize_newlines(topics[key]).split("\n"):
            line = line.rstrip()
            stripped = line.lstrip(" ")
            indent = line[: len(line) - len(stripped)]
            lines.append(indent + re.sub(r" {2,}", " ", stripped))
        doc = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
        if doc.strip():
            documents.append(doc)
    return documents


# --------------------------------------------------------------------------- #
# Text utilities
# --------------------------------------------------------------------------- #

_AESOP_ALPHABET = "abcdefghijklmnopqrstuvwxyz ,;."


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _as_generator(
    random_state: int | np.random.Generator | np.random.RandomState | None,
) -> np.random.Generator:
    if random_state is None or isinstance(random_state, int | np.integer):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise TypeError(
        "random_state must be None, an int, a numpy Generator or a "
        f"RandomState, got {type(random_state).__name__}"
    )


def _clean_for_alphabet(text: str, alphabet: str) -> str:
    allowed = set(alphabet)
    space = " " if " " in allowed else ""
    chars = [
        ch if ch in allowed else (space if ch.isspace() else "") for ch in text.lower()
    ]
    cleaned = "".join(chars)
    if space:
        cleaned = re.sub(" {2,}", " ", cleaned).strip(" ")
    return cleaned


def make_aesop_strings(
    text: str | Iterable[str] | None = None,
    *,
    n_strings: int = 248,
    length: int = 100,
    alphabet: str = _AESOP_ALPHABET,
    random_state: int | np.random.Generator | np.random.RandomState | None = None,
) -> list[str]:
    """Cut a text into fixed-length strings over a small alphabet.

    Reproduces the data format of the sequence-learning experiment of
    Hinton (2022), "The Forward-Forward Algorithm", section on Aesop's
    fables: 248 strings of 100 characters over a 30-symbol alphabet
    (lower-case letters, space, comma, semicolon and full stop).

    The text is lower-cased; every whitespace character (newline, tab, ...)
    becomes a space (if space is in ``alphabet``); every other character not
    in ``alphabet`` is dropped; runs of spaces are squeezed to one and leading
    and trailing spaces removed.  From this cleaned text, ``n_strings``
    non-overlapping windows of exactly ``length`` characters are taken at
    random positions: the placement is uniform over all non-overlapping
    placements, and the strings are returned in text order.

    Parameters
    ----------
    text : str or iterable of str, default=None
        Source text.  An iterable of documents is joined with newlines.  If
        None, :func:`load_default_text` is used.
    n_strings : int, default=248
        Number of strings.
    length : int, default=100
        Characters per string.
    alphabet : str, default="abcdefghijklmnopqrstuvwxyz ,;."
        The allowed characters (compare with the lower-cased text).
    random_state : int, numpy Generator, RandomState or None, default=None
        Controls the positions of the strings.  Pass an int for reproducible
        output.  None draws fresh positions on each call.

    Returns
    -------
    strings : list of str
        ``n_strings`` strings, each exactly ``length`` characters long, all
        characters in ``alphabet``, non-overlapping in the cleaned text.

    Raises
    ------
    ValueError
        If the cleaned text has fewer than ``n_strings * length`` characters,
        if ``n_strings`` or ``length`` is < 1, or if ``alphabet`` is empty.
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    >>> from skff.datasets import make_aesop_strings
    >>> strings = make_aesop_strings(n_strings=3, length=20, random_state=0)
    >>> [len(s) for s in strings]
    [20, 20, 20]
    >>> make_aesop_strings("The Fox, and\tthe  Grapes!", n_strings=1, length=23)
    ['the fox, and the grapes']
    """
    n_strings = _check_positive_int(n_strings, "n_strings")
    length = _check_positive_int(length, "length")
    if not isinstance(alphabet, str):
        raise TypeError(f"alphabet must be a str, got {type(alphabet).__name__}")
    if not alphabet:
        raise ValueError("alphabet must not be empty")
    if text is None:
        text = "\n".join(load_default_text())
    elif not isinstance(text, str):
        text = "\n".join(text)

    rng = _as_generator(random_state)
    cleaned = _clean_for_alphabet(text, alphabet)
    needed = n_strings * length
    if len(cleaned) < needed:
        raise ValueError(
            f"text too short: after cleaning it has {len(cleaned)} characters, "
            f"but n_strings * length = {n_strings} * {length} = {needed} are "
            "needed"
        )
    # Uniform non-overlapping placement ("stars and bars"): choose n distinct
    # slots c_0 < ... < c_{n-1} among slack + n; then g_i = c_i - i is a
    # non-decreasing sequence in [0, slack] (the free characters before
    # string i) and string i starts at g_i + i * length.
    slack = len(cleaned) - needed
    slots = np.sort(rng.choice(slack + n_strings, size=n_strings, replace=False))
    index = np.arange(n_strings)
    starts = slots - index + index * length
    return [cleaned[int(s) : int(s) + length] for s in starts]


def split_text(text: str, test_size: float = 0.1) -> tuple[str, str]:
    """Split one text contiguously into a training part and a test part.

    The first ``1 - test_size`` of the characters go to training and the rest
    to test, with the cut moved to the nearest word start (a non-whitespace
    character preceded by whitespace) so that no word is cut in two.  If the
    text has no word start other than its very beginning, the cut is made at
    the exact character position.

    Parameters
    ----------
    text : str
        The text to split; at least 2 characters.
    test_size : float, default=0.1
        Fraction of the characters to put in the test part, in ``(0, 1)``.

    Returns
    -------
    train_text : str
        The beginning of the text (ends with the whitespace before the cut).
    test_text : str
        The end of the text (starts at a word).  ``train_text + test_text ==
        text`` and both parts are non-empty.

    Raises
    ------
    ValueError
        If ``test_size`` is not in the open interval ``(0, 1)`` or ``text`` has
        fewer than 2 characters.
    TypeError
        If ``text`` is not a str or ``test_size`` is not a real number.

    Examples
    --------
    >>> from skff.datasets import split_text
    >>> split_text("one two three four five six seven eight nine ten", 0.2)
    ('one two three four five six seven eight ', 'nine ten')
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(test_size, bool) or not isinstance(
        test_size, int | float | np.integer | np.floating
    ):
        raise TypeError(f"test_size must be a float, got {type(test_size).__name__}")
    if not 0.0 < float(test_size) < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    n = len(text)
    if n < 2:
        raise ValueError("text must have at least 2 characters to be split")
    cut = min(max(round(n * (1.0 - float(test_size))), 1), n - 1)

    def is_word_start(i: int) -> bool:
        return text[i - 1].isspace() and not text[i].isspace()

    forward = re.compile(r"(?<=\s)\S").search(text, cut)
    after = forward.start() if forward is not None else None
    limit = (after - cut) if after is not None else cut
    before = None
    for i in range(cut - 1, max(cut - limit - 1, 0), -1):
        if is_word_start(i):
            before = i
            break
    candidates = [i for i in (before, after) if i is not None and 0 < i < n]
    if candidates:
        cut = min(candidates, key=lambda i: (abs(i - cut), i))
    return text[:cut], text[cut:]
