"""Sample-quality metrics for generated digits: Fréchet distance and classifier validity.

The Fréchet distance between two Gaussians fitted to feature vectors is FID's formula; with
the oracle classifier's 128-d penultimate features (:meth:`MnistClassifier.features`) it
compares a set of generated digits with real ones. Validity asks the same classifier
whether each generated image shows the digit that was asked for.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg

from lso.utils import InputError

SQRTM_EPS = 1e-6
IMAGINARY_TOLERANCE = 1e-3


def feature_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and sample covariance (d, d) of ``features`` (n, d), in float64."""
    array = _as_array(features)
    if array.ndim != 2 or len(array) < 2:
        raise InputError(f"features must have shape (n >= 2, d), got {array.shape}")
    return array.mean(axis=0), np.atleast_2d(np.cov(array, rowvar=False))


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """Fréchet distance ||mu1 - mu2||² + tr(S1 + S2 - 2 (S1 S2)^½) between two Gaussians.

    The square root of S1 S2 is real in exact arithmetic but ``sqrtm`` of a nearly singular
    product can return non-finite values or imaginary noise; then ``eps·I`` is added to
    both covariances, and what imaginary noise remains is dropped. Rounding can leave a tiny
    negative result for identical statistics, so the distance is clipped at zero.
    """
    mu1, mu2 = np.atleast_1d(_as_array(mu1)), np.atleast_1d(_as_array(mu2))
    sigma1, sigma2 = np.atleast_2d(_as_array(sigma1)), np.atleast_2d(_as_array(sigma2))
    d = len(mu1)
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise InputError(
            f"need means (d,) and covariances (d, d) of one d; got {mu1.shape}, {sigma1.shape}, "
            f"{mu2.shape}, {sigma2.shape}"
        )
    covmean = _sqrtm_product(sigma1, sigma2)
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean)
    return max(float(value), 0.0)


def frechet_distance_between(
    features_a: np.ndarray | torch.Tensor, features_b: np.ndarray | torch.Tensor
) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (n_a, d) and (n_b, d)."""
    return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b))


def validity(probs: np.ndarray | torch.Tensor, digit: int, threshold: float = 0.5) -> float:
    """Fraction of images whose classifier probability of ``digit`` is at least ``threshold``."""
    return float(np.mean(valid_images(probs, digit, threshold)))


def valid_images(
    probs: np.ndarray | torch.Tensor, digit: int, threshold: float = 0.5
) -> np.ndarray:
    """Per image (n,), whether the classifier's probability of ``digit`` is >= ``threshold``."""
    array = _as_array(probs)
    if array.ndim != 2 or not 0 <= digit < array.shape[1] or not len(array):
        raise InputError(
            f"validity needs probabilities (n >= 1, classes) with digit={digit} a class index, "
            f"got shape {array.shape}"
        )
    return array[:, digit] >= threshold


def _sqrtm_product(sigma1: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    """Real square root of ``sigma1 @ sigma2``, regularised when sqrtm struggles."""
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not _usable(covmean):
        offset = SQRTM_EPS * np.eye(len(sigma1))
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    return np.real(covmean)


def _usable(covmean: np.ndarray) -> bool:
    """Finite, with imaginary parts at the level of rounding noise only."""
    if not np.all(np.isfinite(covmean)):
        return False
    return not np.iscomplexobj(covmean) or np.abs(covmean.imag).max() < IMAGINARY_TOLERANCE


def _as_array(values: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64)
