"""Helpers shared by the loaders of :mod:`skff.datasets`."""

import gzip
import zlib
from pathlib import Path


def _read_maybe_gzipped(path: Path, gzipped: bool, what: str) -> bytes:
    """The bytes of ``path``, gunzipped when ``gzipped``; a ValueError that
    calls it "not a readable ``what``" when it can't be read (a truncated
    stream raises EOFError, a corrupt one ``gzip.BadGzipFile``, an OSError,
    or ``zlib.error``)."""
    try:
        if gzipped:
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable {what} ({exc})") from exc


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
