"""The King James Bible, read through the ``bible`` program of ``bible-kjv``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ._common import _normalize_newlines

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
        The whole Bible as one plain string (a text corpus: no Bunch, no
        samples and no target): the 31,102 verses from Genesis 1:1 to
        Revelation 22:21, one verse per line (joined with ``"\\n"``, no
        trailing newline), without verse references or book/chapter
        headings; runs of spaces inside a verse are squeezed to one.  About
        4.0 million ASCII characters.

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
