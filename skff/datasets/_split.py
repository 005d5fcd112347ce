"""Contiguous train/test split of one text at a word boundary."""

from __future__ import annotations

import re

import numpy as np


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
