"""Fixed-length strings over a small alphabet, as in Hinton's Aesop experiment."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from ._pydoc import load_default_text

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
