"""The Devil's Dictionary: a dictd database parser and its loader."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._common import _normalize_newlines, _read_maybe_gzipped

_DEVIL_DEFAULT_PATH = "/usr/share/dictd/devil.dict.dz"
_DICTD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_DICTD_HEADER_PREFIX = "00database"  # index headwords of dictd metadata entries
_DEVIL_HEADWORD_RE = re.compile(r"\n\n(?=[A-Z][A-Z'\- ]*[A-Z],)")
_DEVIL_PREFACE_RE = re.compile(r"^[ \t]*PREFACE[ \t]*$", re.MULTILINE)


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
        The whole dictionary as one plain string (a text corpus: no Bunch,
        no samples and no target), about 380,000 ASCII characters.  Line
        endings are ``"\\n"``, trailing blanks are removed from every line,
        runs of blank lines are squeezed to one blank line (paragraphs and
        entries are separated by exactly one blank line) and the original
        hard line wrapping and indentation (quoted verse, right-aligned
        attributions) are kept.  No trailing newline.

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
    gzipped = data_path.suffix == ".dz" or data_path.name.endswith(".gz")
    raw = _read_maybe_gzipped(data_path, gzipped, "dictzip file")

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
