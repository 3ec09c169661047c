"""Feature spaces for distances between image sets (Fréchet distance, KID).

A distance between generated and real images is measured in some network's features: a
user's TorchScript network when the config names one, or else one of the pipeline's own
trained networks (the digit classifier's penultimate layer, a faces predictor's pooled
features). The functions here turn either into one batched ``images -> features`` function.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from lso.utils import InputError, PathLike

FeatureFunction = Callable[[torch.Tensor], torch.Tensor]


def load_feature_network(
    path: PathLike | None, default: FeatureFunction, device: torch.device, key: str = "validity"
) -> FeatureFunction:
    """The features for distances: a user's TorchScript network, or ``default``.

    Grey images (n, H, W) reach the network as (n, 1, H, W); colour ones as they are.
    ``key`` names the config section in errors.
    """
    if path is None:
        return default
    if not Path(path).is_file():
        raise InputError(f"{key}.feature_network {path}: no such file")
    try:
        network = torch.jit.load(str(path), map_location=device).eval()
    except RuntimeError as error:
        raise InputError(
            f"{key}.feature_network {path} is not a TorchScript file: {error}"
        ) from error

    def features(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return network(images if images.ndim == 4 else images.unsqueeze(1)).flatten(1)

    return features


def batched(
    features: FeatureFunction, images: np.ndarray, device: torch.device, size: int = 256
) -> np.ndarray:
    """``features`` of the images, ``size`` at a time, as float64 (n, ...)."""
    parts = [
        features(torch.as_tensor(images[start : start + size], device=device)).cpu().numpy()
        for start in range(0, len(images), size)
    ]
    return np.concatenate(parts).astype(np.float64)
