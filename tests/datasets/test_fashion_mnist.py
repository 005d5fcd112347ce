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


def _require_real_files():
    if not all((FASHION_DIR / name).is_file() for name in FASHION_FILES):
        pytest.skip("dataset-fashion-mnist is not installed")


@pytest.fixture(scope="module")
def fashion_train():
    _require_real_files()
    return load_fashion_mnist(subset="train", data_home=FASHION_DIR)


@pytest.fixture(scope="module")
def fashion_test():
    _require_real_files()
    return load_fashion_mnist(subset="test", data_home=FASHION_DIR)


def test_fashion_mnist_shapes_and_dtypes(fashion_train, fashion_test):
    for bunch, n in ((fashion_train, 60000), (fashion_test, 10000)):
        assert bunch.data.shape == (n, 784)
        assert bunch.target.shape == (n,)
        assert bunch.images.shape == (n, 28, 28)
        assert bunch.data.dtype == np.float32
        assert bunch.images.dtype == np.float32
        assert bunch.target.dtype == np.int64
        assert np.shares_memory(bunch.images, bunch.data)


def test_fashion_mnist_values(fashion_train, fashion_test):
    for X in (fashion_train.data, fashion_test.data):
        assert X.min() == 0.0
        assert X.max() == 1.0
        # Scaled uint8: every value is k / 255 for an integer k.
        sample = X[:100] * 255
        np.testing.assert_allclose(sample, np.round(sample), atol=1e-4)
    # Images are not constant: a real picture has many distinct grey levels.
    assert len(np.unique(fashion_train.data[0])) > 20


def test_fashion_mnist_labels(fashion_train, fashion_test):
    np.testing.assert_array_equal(np.bincount(fashion_train.target), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(fashion_test.target), np.full(10, 1000))
    # First training labels of the official release: Ankle boot, T-shirt, ...
    np.testing.assert_array_equal(fashion_train.target[:5], [9, 0, 0, 3, 0])


def test_fashion_mnist_metadata(fashion_train):
    assert fashion_train.target_names == list(FASHION_MNIST_CLASSES)
    assert len(fashion_train.target_names) == 10
    assert fashion_train.target_names[9] == "Ankle boot"
    assert "Fashion-MNIST" in fashion_train.DESCR
    assert len(fashion_train.feature_names) == 784


def test_fashion_mnist_all_is_train_then_test(fashion_train, fashion_test):
    X, y = load_fashion_mnist(subset="all", data_home=FASHION_DIR, return_X_y=True)
    assert X.shape == (70000, 784) and y.shape == (70000,)
    np.testing.assert_array_equal(X[:60000], fashion_train.data)
    np.testing.assert_array_equal(X[60000:], fashion_test.data)
    np.testing.assert_array_equal(y[:60000], fashion_train.target)
    np.testing.assert_array_equal(y[60000:], fashion_test.target)


# --------------------------------------------------------------------------- #
# Fashion-MNIST, synthetic files
# --------------------------------------------------------------------------- #


def test_fashion_mnist_synthetic_roundtrip(tmp_path):
    arrays = _write_fake_fashion(tmp_path)
    X_train, y_train = load_fashion_mnist(
        subset="train", data_home=tmp_path, return_X_y=True, scale=False
    )
    X_test, y_test = load_fashion_mnist(
        subset="test", data_home=tmp_path, return_X_y=True, scale=False
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
    assert bunch.data.dtype == np.float32
    np.testing.assert_allclose(bunch.data * 255, arrays["X_train"].reshape(20, -1))
    assert bunch.data[0, 0] == 1.0 and bunch.data[0, 1] == 0.0


def test_fashion_mnist_default_subset_is_train(tmp_path):
    arrays = _write_fake_fashion(tmp_path)
    X, y = load_fashion_mnist(data_home=tmp_path, return_X_y=True, scale=False)
    np.testing.assert_array_equal(X, arrays["X_train"].reshape(20, -1))
    np.testing.assert_array_equal(y, arrays["y_train"])


def test_fashion_mnist_bunch_fields(tmp_path):
    arrays = _write_fake_fashion(tmp_path)
    bunch = load_fashion_mnist(subset="test", data_home=tmp_path, scale=False)
    assert set(bunch) == {
        "data",
        "target",
        "images",
        "feature_names",
        "target_names",
        "DESCR",
    }
    np.testing.assert_array_equal(bunch.images, arrays["X_test"])
    np.testing.assert_array_equal(bunch.target, arrays["y_test"])
    assert bunch.target_names == list(FASHION_MNIST_CLASSES)
    assert bunch.feature_names[:3] == ["pixel_0_0", "pixel_0_1", "pixel_0_2"]
    assert bunch.feature_names[28] == "pixel_1_0"
    assert bunch.feature_names[-1] == "pixel_27_27"
    assert len(set(bunch.feature_names)) == 784
    # Column "pixel_r_c" of data is pixel (r, c) of the image.
    col = bunch.feature_names.index("pixel_3_17")
    np.testing.assert_array_equal(bunch.data[:, col], arrays["X_test"][:, 3, 17])
    assert "Fashion-MNIST" in bunch.DESCR


@pytest.mark.parametrize("scale", [True, False])
def test_fashion_mnist_images_is_view_of_data(tmp_path, scale):
    _write_fake_fashion(tmp_path)
    bunch = load_fashion_mnist(data_home=tmp_path, scale=scale)
    assert bunch.images.shape == (20, 28, 28)
    assert np.shares_memory(bunch.images, bunch.data)
    # No copy: a write through data shows up in images.
    bunch.data[3, 28 * 5 + 7] = 42
    assert bunch.images[3, 5, 7] == 42


def test_fashion_mnist_return_X_y_matches_bunch(tmp_path):
    _write_fake_fashion(tmp_path)
    for subset in ("train", "test", "all"):
        result = load_fashion_mnist(subset=subset, data_home=tmp_path, return_X_y=True)
        assert isinstance(result, tuple) and len(result) == 2
        bunch = load_fashion_mnist(subset=subset, data_home=tmp_path)
        np.testing.assert_array_equal(result[0], bunch.data)
        np.testing.assert_array_equal(result[1], bunch.target)


def test_fashion_mnist_all_is_train_then_test_synthetic(tmp_path):
    arrays = _write_fake_fashion(tmp_path, n_train=20, n_test=10)
    bunch = load_fashion_mnist(subset="all", data_home=tmp_path, scale=False)
    assert bunch.data.shape == (30, 784)
    assert bunch.images.shape == (30, 28, 28)
    np.testing.assert_array_equal(
        bunch.images, np.concatenate([arrays["X_train"], arrays["X_test"]])
    )
    np.testing.assert_array_equal(
        bunch.target, np.concatenate([arrays["y_train"], arrays["y_test"]])
    )
    assert np.shares_memory(bunch.images, bunch.data)


@pytest.mark.parametrize("subset", ["training", "TRAIN", "", None, 0, ["train"]])
def test_fashion_mnist_bad_subset(tmp_path, subset):
    _write_fake_fashion(tmp_path)
    with pytest.raises(ValueError, match="subset must be one of 'train', 'test'"):
        load_fashion_mnist(subset=subset, data_home=tmp_path)


def test_fashion_mnist_bad_subset_checked_before_files(tmp_path):
    # An empty directory: the subset error comes first, not FileNotFoundError.
    with pytest.raises(ValueError, match="'testing'"):
        load_fashion_mnist(subset="testing", data_home=tmp_path)


def test_fashion_mnist_env_var_and_uncompressed(tmp_path, monkeypatch):
    arrays = _write_fake_fashion(tmp_path, n_train=5, n_test=3, compress=False)
    monkeypatch.setenv("SKFF_FASHION_MNIST_DIR", str(tmp_path))
    X_train, y_train = load_fashion_mnist(subset="train", return_X_y=True)
    X_test, y_test = load_fashion_mnist(subset="test", return_X_y=True)
    assert X_train.shape == (5, 784) and X_test.shape == (3, 784)
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_fashion_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError) as excinfo:
        load_fashion_mnist(data_home=tmp_path)
    message = str(excinfo.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "SKFF_FASHION_MNIST_DIR" in message
    assert "data_home" in message
    # How to get the data without the Debian package: all four files and
    # where to download them.
    for name in FASHION_FILES:
        assert name in message
    assert "https://github.com/zalandoresearch/fashion-mnist" in message
    assert "data/fashion" in message
    assert "fetch_openml" in message


@pytest.mark.parametrize(
    ("subset", "removed", "raises"),
    [
        ("train", "t10k-labels-idx1-ubyte.gz", False),
        ("test", "t10k-labels-idx1-ubyte.gz", True),
        ("all", "t10k-labels-idx1-ubyte.gz", True),
        ("test", "train-images-idx3-ubyte.gz", False),
        ("all", "train-images-idx3-ubyte.gz", True),
    ],
)
def test_fashion_mnist_one_file_missing(tmp_path, subset, removed, raises):
    _write_fake_fashion(tmp_path)
    (tmp_path / removed).unlink()
    if raises:
        with pytest.raises(FileNotFoundError, match=removed):
            load_fashion_mnist(subset=subset, data_home=tmp_path)
    else:
        # Only the files of the requested subset are needed.
        X, _ = load_fashion_mnist(subset=subset, data_home=tmp_path, return_X_y=True)
        assert X.shape == ((20 if subset == "train" else 10), 784)


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
        load_fashion_mnist(subset="test", data_home=tmp_path)


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


def test_fashion_mnist_wrong_image_size(tmp_path):
    _write_fake_fashion(tmp_path)
    images = np.zeros((10, 28, 27), dtype=np.uint8)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(_idx_bytes(images))
    )
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz.*28x28.*28x27"):
        load_fashion_mnist(subset="all", data_home=tmp_path)
