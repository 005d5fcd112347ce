"""Tests for skff.datasets.load_fashion_mnist (and its IDX reader)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from skff.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


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
