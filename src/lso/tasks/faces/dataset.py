"""The prepared faces data set: one compact file, and the views each job takes of it.

A prepared faces file holds every labelled face once, as 8-bit colour (uint8 (N, 3, 64, 64)),
with its level of the optimised attribute (``levels``, 0–5 for CelebA-Dialog and the generated
faces; 0/1 for the original CelebA's ±1 attributes) and two assignments drawn once, when the
file is prepared:

- ``half``: 0 for faces the black-box predictor learns from, 1 for the independent judge's
  (disjoint halves, so the judge never saw the faces the black box was fitted to);
- ``val``: held out for validation (the generative model's validation loss, and the
  predictors' temperature scaling and calibration metrics).

The views:

- :func:`generative_split`: faces at level <= ``max_level`` (the thesis: Smiling <= 2), the
  data the generative model is trained and retrained on;
- :func:`predictor_split`: one half's faces at every level, for a predictor;
- :func:`reference_images`: faces above ``max_level`` (the thesis's Smiling 3–5), the set
  the Fréchet distance of queries is measured against.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lso.core.datafiles import read_npz, save_npz
from lso.utils import InputError, PathLike

FACE_KEYS = ("images", "levels", "half", "val", "max_level")
ROLES = ("black_box", "judge")  # predictor roles -> half 0, half 1


class PredictorData(NamedTuple):
    """A predictor's training and validation faces (float32 in [0, 1]) and integer levels."""

    train_images: np.ndarray
    train_levels: np.ndarray
    val_images: np.ndarray
    val_levels: np.ndarray


def assign_splits(
    levels: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random ``half`` (0/1, balanced) and ``val`` (``val_fraction`` of faces) assignments."""
    rng = np.random.default_rng(seed)
    n = len(levels)
    half = np.zeros(n, np.int8)
    half[rng.permutation(n)[: n // 2]] = 1
    val = np.zeros(n, bool)
    val[rng.permutation(n)[: int(round(val_fraction * n))]] = True
    return half, val


def save_face_dataset(path: PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write a prepared faces file (the keys of :data:`FACE_KEYS`), atomically."""
    _check(arrays, str(path))
    save_npz(path, arrays, FACE_KEYS)


def load_face_dataset(path: PathLike) -> dict[str, np.ndarray]:
    """Read a prepared faces file, rejecting anything else by name."""
    arrays = read_npz(path)
    _check(arrays, str(path))
    return {key: arrays[key] for key in FACE_KEYS}


def load_generative_data(path: PathLike, compact: bool = False) -> dict[str, np.ndarray]:
    """The training and validation faces of a generative model (no scores: the run's black
    box scores them); ``compact`` keeps them 8-bit, as stored (160,000 CelebA faces: 2 GB,
    instead of 8 GB as float32), for the jobs that convert them batch by batch."""
    return generative_split(load_face_dataset(path), compact)


def generative_split(data: dict[str, np.ndarray], compact: bool = False) -> dict[str, np.ndarray]:
    """Training and validation faces at level <= ``max_level`` as float32 in [0, 1] (uint8
    with ``compact``)."""
    capped = data["levels"] <= int(data["max_level"])
    convert = (lambda images: images) if compact else _unit
    return {
        "train_images": convert(data["images"][_generative_training(data)]),
        "val_images": convert(data["images"][capped & data["val"]]),
    }


def _generative_training(data: dict[str, np.ndarray]) -> np.ndarray:
    """Mask of the generative model's training faces: at or below the cap, not held out."""
    return (data["levels"] <= int(data["max_level"])) & ~data["val"]


def validation_faces(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Every held-out face (both halves, every level) as float32 in [0, 1], with its level."""
    return _unit(data["images"][data["val"]]), data["levels"][data["val"]]


def predictor_split(data: dict[str, np.ndarray], role: str) -> PredictorData:
    """The faces of ``role``'s half (``black_box`` or ``judge``), at every level."""
    if role not in ROLES:
        raise InputError(f"predictor role {role!r} is unknown; expected one of {ROLES}")
    mine = data["half"] == ROLES.index(role)
    train, val = mine & ~data["val"], mine & data["val"]
    return PredictorData(
        _unit(data["images"][train]),
        data["levels"][train].astype(np.int64),
        _unit(data["images"][val]),
        data["levels"][val].astype(np.int64),
    )


def reference_images(data: dict[str, np.ndarray]) -> np.ndarray:
    """Faces above the training cap (the thesis's Smiling 3–5), float32 in [0, 1]."""
    return _unit(data["images"][data["levels"] > int(data["max_level"])])


def at_cap(data: dict[str, np.ndarray]) -> np.ndarray:
    """Which of the generative training faces (:func:`generative_split`) sit exactly at the
    cap level: the best the generative model has seen."""
    return data["levels"][_generative_training(data)] == int(data["max_level"])


def n_levels(data: dict[str, np.ndarray]) -> int:
    """How many attribute levels the predictors distinguish (6 for 0–5, 2 for ±1 labels)."""
    return int(data["levels"].max()) + 1


def _unit(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 255.0


def _check(arrays: dict[str, np.ndarray], name: str) -> None:
    missing = [key for key in FACE_KEYS if key not in arrays]
    if missing:
        raise InputError(f"{name}: not a prepared faces file (missing {missing})")
    images, levels = arrays["images"], arrays["levels"]
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise InputError(
            f"{name}: images must be uint8 (N, 3, H, W), got {images.dtype} {images.shape}"
        )
    n = len(images)
    for key in ("levels", "half", "val"):
        if arrays[key].shape != (n,):
            raise InputError(f"{name}: {key} must have one entry per image ({n})")
    if n and (levels.min() < 0 or levels.max() > 5):
        raise InputError(f"{name}: levels must lie in 0..5")
    max_level = int(arrays["max_level"])
    if not (levels <= max_level).any() or not (levels > max_level).any():
        raise InputError(
            f"{name}: need faces at and below max_level {max_level} (to train on) and above "
            "it (the reference set)"
        )
