"""Reading and writing compressed NumPy archives (prepared data sets, figure data)."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from lso.utils import InputError, PathLike, atomic_path


def read_npz(path: PathLike) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz`` archive, turning unreadable files into InputError."""
    try:
        loaded = np.load(Path(path), allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array")
        with loaded:
            return {key: loaded[key] for key in loaded.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise InputError(f"{path}: not a readable .npz archive ({err})") from err


def save_npz(path: PathLike, arrays: dict[str, np.ndarray], keys: tuple[str, ...]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        # Writing to a handle stops numpy appending ".npz" to a temporary name without it.
        np.savez_compressed(handle, **{key: arrays[key] for key in keys})


def save_arrays(path: PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write every array of ``arrays`` (no pickled objects) atomically."""
    save_npz(path, arrays, tuple(arrays))


def read_training_scores(path: PathLike, n_images: int, dataset_path: PathLike) -> np.ndarray:
    """The ``train_scores`` that ``score_data`` wrote, checked against the data set's
    ``n_images`` training images."""
    stored = read_npz(path).get("train_scores")
    if stored is None or stored.shape != (n_images,):
        raise InputError(
            f"{path}: expected 'train_scores' for the {n_images} training images of "
            f"{dataset_path}, got {None if stored is None else stored.shape}"
        )
    return stored
