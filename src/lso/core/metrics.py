"""Sample-quality metrics: Fréchet distance, kernel inception distance, classifier validity.

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


KID_SUBSET = 1000  # images per subset, as the KID reference implementation


def kernel_inception_distance(
    features_a: np.ndarray | torch.Tensor,
    features_b: np.ndarray | torch.Tensor,
    subset_size: int = KID_SUBSET,
    n_subsets: int = 10,
    seed: int = 0,
) -> float:
    """Unbiased squared MMD with the kernel k(x, y) = (x·y / d + 1)³ (Bińkowski et al. 2018).

    Unlike the Fréchet distance, whose estimate from a few dozen images is dominated by their
    number (two samples of one distribution: FD 243 at n = 30, 17 at n = 500), this estimate
    is unbiased at any size, so runs with 40 queries can be compared with each other and with
    a reference. Sets larger than ``subset_size`` are compared as the mean over ``n_subsets``
    random subsets of that size (drawn from ``seed``).
    """
    a, b = _as_array(features_a), _as_array(features_b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise InputError(f"KID needs two feature sets (n >= 2, d), got {a.shape} and {b.shape}")
    if max(len(a), len(b)) <= subset_size:
        return _unbiased_mmd2(a, b)
    rng = np.random.default_rng(seed)
    size_a, size_b = min(subset_size, len(a)), min(subset_size, len(b))
    values = [
        _unbiased_mmd2(a[rng.choice(len(a), size_a, False)], b[rng.choice(len(b), size_b, False)])
        for _ in range(n_subsets)
    ]
    return float(np.mean(values))


def _unbiased_mmd2(a: np.ndarray, b: np.ndarray) -> float:
    d = a.shape[1]
    k_aa = (a @ a.T / d + 1) ** 3
    k_bb = (b @ b.T / d + 1) ** 3
    k_ab = (a @ b.T / d + 1) ** 3
    m, n = len(a), len(b)
    within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
    return float(within_a + within_b - 2 * k_ab.mean())
