"""The default text corpus: the Python documentation topics of ``pydoc_data``."""

from __future__ import annotations

import re

from ._common import _normalize_newlines


def load_default_text() -> list[str]:
    """Return the always-available default text corpus.

    The corpus is the Python language reference topics bundled with CPython
    (``pydoc_data.topics.topics``, what ``help("assert")`` etc. show), so it
    needs no download or system package: 79 documents on Python 3.11, about
    460,000 characters in all.

    Returns
    -------
    documents : list of str
        The corpus as a plain list of strings (no Bunch and no target), one
        document per topic, sorted by topic key for determinism.  Each
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
