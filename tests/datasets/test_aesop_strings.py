"""Tests for skff.datasets.make_aesop_strings."""

from __future__ import annotations

import string

import numpy as np
import pytest

from skff.datasets import make_aesop_strings

AESOP_ALPHABET = set("abcdefghijklmnopqrstuvwxyz ,;.")


def test_aesop_default_corpus():
    strings = make_aesop_strings(random_state=0)
    assert len(strings) == 248
    assert all(isinstance(s, str) and len(s) == 100 for s in strings)
    assert set("".join(strings)) <= AESOP_ALPHABET
    assert not any("  " in s for s in strings)
    assert len(set(strings)) == 248


def test_aesop_determinism():
    a = make_aesop_strings(random_state=42, n_strings=20, length=50)
    b = make_aesop_strings(random_state=42, n_strings=20, length=50)
    c = make_aesop_strings(random_state=43, n_strings=20, length=50)
    assert a == b
    assert a != c
    text = "the quick brown fox jumps over the lazy dog. " * 50
    rng_a = make_aesop_strings(
        text, random_state=np.random.default_rng(5), n_strings=5, length=10
    )
    rng_b = make_aesop_strings(
        text, random_state=np.random.default_rng(5), n_strings=5, length=10
    )
    assert rng_a == rng_b
    legacy = make_aesop_strings(
        text, random_state=np.random.RandomState(0), n_strings=5, length=10
    )
    assert len(legacy) == 5


def test_aesop_non_overlapping_in_text_order():
    # An already-clean text of unique 4-letter tokens: positions are traceable.
    letters = string.ascii_lowercase
    words = [a + b + c for a in letters[:10] for b in letters[:10] for c in "xyz"]
    text = " ".join(words)
    strings = make_aesop_strings(text, n_strings=30, length=37, random_state=1)
    starts = [text.index(s) for s in strings]
    assert starts == sorted(starts)
    assert all(b - a >= 37 for a, b in zip(starts[:-1], starts[1:], strict=True))


@pytest.mark.parametrize("seed", range(20))
def test_aesop_tight_fit_stays_inside_text(seed):
    # Only 3 spare characters: every placement must still fit in the text.
    text = "".join(string.ascii_lowercase[i % 26] for i in range(10 * 26 + 3))
    strings = make_aesop_strings(text, n_strings=10, length=26, random_state=seed)
    assert len(strings) == 10
    assert all(len(s) == 26 for s in strings)
    # Windows of a period-26 text: each starts with letter (start mod 26), and
    # the start offsets (string i at g_i + 26 i) are non-decreasing in 0..3.
    offsets = [string.ascii_lowercase.index(s[0]) for s in strings]
    assert offsets == sorted(offsets)
    assert all(0 <= g <= 3 for g in offsets)


def test_aesop_placement_uses_whole_text():
    letters = string.ascii_lowercase
    # 2197 distinct 3-letter words, already clean (digits would be dropped).
    text = " ".join(
        a + b + c for a in letters[:13] for b in letters[:13] for c in letters[:13]
    )
    first, last = set(), set()
    for seed in range(30):
        strings = make_aesop_strings(text, n_strings=3, length=6, random_state=seed)
        first.add(text.index(strings[0]))
        last.add(text.index(strings[-1]))
    assert min(first) < len(text) // 4
    assert max(last) > 3 * len(text) // 4


def test_aesop_cleaning_and_exact_fit():
    text = "Hello,\tWORLD!\n\nIt's  a (fine) day; truly."
    cleaned = "hello, world its a fine day; truly."
    # Exactly n_strings * length characters: consecutive chunks, no choice.
    assert make_aesop_strings(text, n_strings=5, length=7) == [
        cleaned[i : i + 7] for i in range(0, 35, 7)
    ]
    # An iterable of documents is joined with newlines (-> spaces).
    assert make_aesop_strings(["ab", "cd"], n_strings=1, length=5) == ["ab cd"]


def test_aesop_custom_alphabet():
    strings = make_aesop_strings("Abc abc ABC", n_strings=1, length=9, alphabet="abc")
    assert strings == ["abcabcabc"]


def test_aesop_too_short():
    with pytest.raises(ValueError, match="too short"):
        make_aesop_strings("a short text", n_strings=2, length=100)
    with pytest.raises(ValueError, match="too short"):
        make_aesop_strings("!!!???***", n_strings=1, length=1)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_strings": 0}, ValueError),
        ({"length": -1}, ValueError),
        ({"length": 2.5}, TypeError),
        ({"alphabet": ""}, ValueError),
        ({"random_state": "seed"}, TypeError),
    ],
)
def test_aesop_bad_parameters(kwargs, error):
    with pytest.raises(error):
        make_aesop_strings("some text " * 100, **kwargs)
