"""Tests for skff.datasets."""

from __future__ import annotations

import gzip
import re
import shutil
import string
from pathlib import Path

import numpy as np
import pytest

from skff.datasets import (
    FASHION_MNIST_CLASSES,
    load_bible_kjv,
    load_default_text,
    load_devils_dictionary,
    load_fashion_mnist,
    make_aesop_strings,
    split_text,
)

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
DEVIL_PATH = Path("/usr/share/dictd/devil.dict.dz")
BIBLE_PATH = Path("/usr/lib/bible.data")
AESOP_ALPHABET = set("abcdefghijklmnopqrstuvwxyz ,;.")


# --------------------------------------------------------------------------- #
# Helpers: tiny synthetic IDX files
# --------------------------------------------------------------------------- #


def _idx_bytes(array: np.ndarray) -> bytes:
    assert array.dtype == np.uint8
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def _write_fake_fashion(
    directory: Path, n_train: int = 20, n_test: int = 10, *, compress: bool = True
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "X_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "X_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10)[::-1].astype(np.uint8),
    }
    arrays["X_train"][0, 0, 0] = 255
    arrays["X_train"][0, 0, 1] = 0
    names = dict(
        zip(("X_train", "y_train", "X_test", "y_test"), FASHION_FILES, strict=True)
    )
    directory.mkdir(parents=True, exist_ok=True)
    for key, name in names.items():
        payload = _idx_bytes(arrays[key])
        if compress:
            (directory / name).write_bytes(gzip.compress(payload))
        else:
            (directory / name.removesuffix(".gz")).write_bytes(payload)
    return arrays


# --------------------------------------------------------------------------- #
# Fashion-MNIST, real files
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def fashion():
    if not all((FASHION_DIR / name).is_file() for name in FASHION_FILES):
        pytest.skip("dataset-fashion-mnist is not installed")
    return load_fashion_mnist(data_home=FASHION_DIR)


def test_fashion_mnist_shapes_and_dtypes(fashion):
    assert fashion.X_train.shape == (60000, 784)
    assert fashion.X_test.shape == (10000, 784)
    assert fashion.y_train.shape == (60000,)
    assert fashion.y_test.shape == (10000,)
    assert fashion.X_train.dtype == np.float32
    assert fashion.X_test.dtype == np.float32
    assert fashion.y_train.dtype == np.int64
    assert fashion.y_test.dtype == np.int64


def test_fashion_mnist_values(fashion):
    for X in (fashion.X_train, fashion.X_test):
        assert X.min() == 0.0
        assert X.max() == 1.0
        # Scaled uint8: every value is k / 255 for an integer k.
        sample = X[:100] * 255
        np.testing.assert_allclose(sample, np.round(sample), atol=1e-4)
    # Images are not constant: a real picture has many distinct grey levels.
    assert len(np.unique(fashion.X_train[0])) > 20


def test_fashion_mnist_labels(fashion):
    np.testing.assert_array_equal(np.bincount(fashion.y_train), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(fashion.y_test), np.full(10, 1000))
    # First training labels of the official release: Ankle boot, T-shirt, ...
    np.testing.assert_array_equal(fashion.y_train[:5], [9, 0, 0, 3, 0])


def test_fashion_mnist_metadata(fashion):
    assert fashion.target_names == list(FASHION_MNIST_CLASSES)
    assert len(fashion.target_names) == 10
    assert fashion.target_names[9] == "Ankle boot"
    assert "Fashion-MNIST" in fashion.DESCR


# --------------------------------------------------------------------------- #
# Fashion-MNIST, synthetic files
# --------------------------------------------------------------------------- #


def test_fashion_mnist_synthetic_roundtrip(tmp_path):
    arrays = _write_fake_fashion(tmp_path)
    X_train, X_test, y_train, y_test = load_fashion_mnist(
        data_home=tmp_path, return_X_y=True, scale=False
    )
    assert X_train.dtype == np.uint8 and X_train.shape == (20, 784)
    assert X_test.dtype == np.uint8 and X_test.shape == (10, 784)
    np.testing.assert_array_equal(X_train, arrays["X_train"].reshape(20, -1))
    np.testing.assert_array_equal(X_test, arrays["X_test"].reshape(10, -1))
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert y_train.dtype == np.int64
    assert X_train.flags.writeable  # returned arrays own writable memory
    X_train[0, 0] = 1

    bunch = load_fashion_mnist(data_home=str(tmp_path))
    assert bunch.X_train.dtype == np.float32
    np.testing.assert_allclose(bunch.X_train * 255, arrays["X_train"].reshape(20, -1))
    assert bunch.X_train[0, 0] == 1.0 and bunch.X_train[0, 1] == 0.0


def test_fashion_mnist_env_var_and_uncompressed(tmp_path, monkeypatch):
    arrays = _write_fake_fashion(tmp_path, n_train=5, n_test=3, compress=False)
    monkeypatch.setenv("SKFF_FASHION_MNIST_DIR", str(tmp_path))
    X_train, X_test, y_train, y_test = load_fashion_mnist(return_X_y=True)
    assert X_train.shape == (5, 784) and X_test.shape == (3, 784)
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_fashion_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError) as excinfo:
        load_fashion_mnist(data_home=tmp_path)
    message = str(excinfo.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "SKFF_FASHION_MNIST_DIR" in message
    assert "data_home" in message
    assert "train-images-idx3-ubyte.gz" in message


def test_fashion_mnist_one_file_missing(tmp_path):
    _write_fake_fashion(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_not_gzip(tmp_path):
    _write_fake_fashion(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"this is not gzip" * 10)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_truncated_gzip_stream(tmp_path):
    _write_fake_fashion(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_truncated_idx_payload(tmp_path):
    _write_fake_fashion(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    payload = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(payload[:-7]))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz.*truncated"):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_bad_magic(tmp_path):
    _write_fake_fashion(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    payload = bytearray(gzip.decompress(path.read_bytes()))
    payload[0] = 0x12
    path.write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.gz.*magic"):
        load_fashion_mnist(data_home=tmp_path)


def test_fashion_mnist_label_count_mismatch(tmp_path):
    _write_fake_fashion(tmp_path)
    labels = (np.arange(7) % 10).astype(np.uint8)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes(labels))
    )
    with pytest.raises(ValueError, match="labels"):
        load_fashion_mnist(data_home=tmp_path)


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


# --------------------------------------------------------------------------- #
# make_aesop_strings
# --------------------------------------------------------------------------- #


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


# --------------------------------------------------------------------------- #
# split_text
# --------------------------------------------------------------------------- #


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
