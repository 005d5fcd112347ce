"""Tests for the text-corpus loaders of skff.datasets: The Devil's Dictionary,
the King James Bible and the default text (Python's pydoc topics)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from skff.datasets import load_bible_kjv, load_default_text, load_devils_dictionary

DEVIL_PATH = Path("/usr/share/dictd/devil.dict.dz")
BIBLE_PATH = Path("/usr/lib/bible.data")


# --------------------------------------------------------------------------- #
# The Devil's Dictionary
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def devil():
    if not DEVIL_PATH.is_file():
        pytest.skip("dict-devil is not installed")
    return load_devils_dictionary()


def test_devils_dictionary_content(devil):
    assert isinstance(devil, str)
    assert len(devil) > 100_000
    assert devil.startswith("PREFACE\n\n_The Devil's Dictionary_ was begun")
    assert "ABASEMENT, n.  A decent and customary mental attitude" in devil
    assert "CYNIC, n.  A blackguard whose faulty vision" in devil
    assert devil.rstrip().endswith("sheds its horn every two years.")
    # Entries appear once each, in order, even where headwords share an entry.
    assert devil.count("BABE or BABY, n.") == 1
    assert devil.count("LAUREL, n.") == 1
    assert devil.index("ABASEMENT, n.") < devil.index("ZOOLOGY, n.")


def test_devils_dictionary_no_dictd_junk(devil):
    assert "00-database" not in devil
    assert "wiretap" not in devil.lower()
    assert "dictfmt" not in devil
    assert "abcdefghijklmnopqrstuvwxyz" not in devil
    assert "\r" not in devil
    assert "\n\n\n" not in devil
    assert not any(line != line.rstrip() for line in devil.split("\n"))


def test_devils_dictionary_without_index(devil, tmp_path):
    copy = tmp_path / "devil.dict.dz"
    shutil.copy(DEVIL_PATH, copy)
    assert load_devils_dictionary(path=copy) == devil


def test_devils_dictionary_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dict-devil"):
        load_devils_dictionary(path=tmp_path / "devil.dict.dz")


def test_devils_dictionary_corrupt(tmp_path):
    path = tmp_path / "devil.dict.dz"
    path.write_bytes(b"garbage, not dictzip")
    with pytest.raises(ValueError, match="devil.dict.dz"):
        load_devils_dictionary(path=path)


# --------------------------------------------------------------------------- #
# King James Bible
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def bible():
    if not (
        BIBLE_PATH.is_file()
        and Path(str(BIBLE_PATH) + ".conc").is_file()
        and shutil.which("bible")
    ):
        pytest.skip("bible-kjv is not installed")
    return load_bible_kjv()


def test_bible_content(bible):
    assert isinstance(bible, str)
    verses = bible.split("\n")
    assert len(verses) == 31102
    assert verses[0] == "In the beginning God created the heaven and the earth."
    assert verses[-1] == "The grace of our Lord Jesus Christ be with you all. Amen."
    assert "For God so loved the world" in bible
    assert len(bible) > 4_000_000


def test_bible_clean(bible):
    reference = re.compile(r"^[1-3]?[A-Za-z]+\d+:\d+")
    assert not any(reference.match(verse) for verse in bible.split("\n"))
    assert all(verse and verse == verse.strip() for verse in bible.split("\n"))
    assert "  " not in bible


def test_bible_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install bible-kjv"):
        load_bible_kjv(path=tmp_path / "bible.data")


# --------------------------------------------------------------------------- #
# Default text
# --------------------------------------------------------------------------- #


def test_default_text():
    docs = load_default_text()
    assert isinstance(docs, list)
    assert len(docs) > 10
    assert all(isinstance(doc, str) and doc.strip() for doc in docs)
    assert sum(map(len, docs)) > 100_000
    assert load_default_text() == docs
    for doc in docs:
        assert "\r" not in doc
        assert "\n\n\n" not in doc
        assert doc == doc.strip("\n")
        assert all(line == line.rstrip() for line in doc.split("\n"))
    assert any("assert" in doc for doc in docs)
