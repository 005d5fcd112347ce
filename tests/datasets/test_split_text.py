"""Tests for skff.datasets.split_text."""

from __future__ import annotations

import re

import pytest

from skff.datasets import split_text


@pytest.mark.parametrize("test_size", [0.1, 0.25, 0.5, 0.9])
def test_split_text_properties(test_size):
    text = " ".join(f"word{i}" for i in range(2000))
    train, test = split_text(text, test_size=test_size)
    assert train + test == text
    assert train and test
    assert abs(len(test) / len(text) - test_size) < 0.01
    assert train[-1].isspace()
    assert not test[0].isspace()
    assert re.fullmatch(r"word\d+", test.split()[0])


def test_split_text_default_and_newlines():
    text = "\n".join(f"line number {i} of the text" for i in range(500))
    train, test = split_text(text)
    assert train + test == text
    assert abs(len(test) / len(text) - 0.1) < 0.01
    assert train.endswith(("\n", " "))


def test_split_text_without_whitespace():
    train, test = split_text("abcdefghij", test_size=0.3)
    assert (train, test) == ("abcdefg", "hij")


def test_split_text_tiny():
    assert split_text("ab", test_size=0.1) == ("a", "b")


@pytest.mark.parametrize("test_size", [0, 0.0, 1, 1.0, -0.1, 1.5, float("nan")])
def test_split_text_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        split_text("some text here", test_size=test_size)


def test_split_text_bad_types():
    with pytest.raises(TypeError):
        split_text(b"bytes are not text")
    with pytest.raises(TypeError):
        split_text("some text", test_size="0.1")
    with pytest.raises(ValueError):
        split_text("a")
