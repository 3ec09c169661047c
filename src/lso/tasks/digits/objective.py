"""The digits' black box: stroke thickness, the mean pixel value of a binarised digit."""

from __future__ import annotations

import numpy as np

from lso.utils import InputError


def thickness(images: np.ndarray) -> np.ndarray:
    """Return the mean pixel value of each image, the objective that optimisation maximises.

    On binarised digits this is the fraction of inked pixels, i.e. how thick the strokes
    are. Works on any array-like whose last two axes are the image (e.g. ``(N, 28, 28)``).
    """
    array = np.asarray(images, dtype=np.float64)
    if array.ndim < 2:
        raise InputError(f"thickness: expected images with >= 2 dimensions, got {array.shape}")
    return array.mean(axis=(-2, -1))
