"""Fréchet distance against closed forms, feature statistics, and classifier validity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.core.metrics import (
    feature_statistics,
    frechet_distance,
    frechet_distance_between,
    validity,
)
from lso.utils import InputError


def test_diagonal_gaussians_match_the_closed_form() -> None:
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2.0 * np.sqrt(var1 * var2))
    value = frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
    assert value == pytest.approx(expected, rel=1e-9)


def test_identical_statistics_give_zero_and_the_distance_is_symmetric() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 4))
    mu_a, sigma_a = feature_statistics(a)
    mu_b, sigma_b = feature_statistics(rng.normal(loc=0.5, size=(50, 4)))
    assert frechet_distance(mu_a, sigma_a, mu_a, sigma_a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(mu_a, sigma_a, mu_b, sigma_b) == pytest.approx(
        frechet_distance(mu_b, sigma_b, mu_a, sigma_a), rel=1e-6
    )


def test_singular_covariances_still_give_a_finite_distance() -> None:
    rng = np.random.default_rng(1)
    few = rng.normal(size=(3, 6))  # 3 samples in 6-D: rank-deficient covariances
    value = frechet_distance_between(few, few + 1.0)
    assert np.isfinite(value)
    assert value == pytest.approx(6.0, abs=1e-3)  # same spread, mean shifted by 1 per axis


def test_shifted_samples_give_the_squared_shift() -> None:
    a = torch.randn(2000, 3, generator=torch.Generator().manual_seed(0))
    assert frechet_distance_between(a, a + torch.tensor([3.0, 0.0, 4.0])) == pytest.approx(25.0)


def test_feature_statistics_are_mean_and_sample_covariance() -> None:
    features = np.arange(12.0).reshape(4, 3) ** 1.5
    mu, sigma = feature_statistics(features)
    assert np.allclose(mu, features.mean(axis=0))
    assert np.allclose(sigma, np.cov(features.T))
    with pytest.raises(InputError, match="n >= 2"):
        feature_statistics(features[:1])


def test_mismatched_statistics_raise() -> None:
    with pytest.raises(InputError, match="covariances"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_validity_counts_confident_images_of_the_digit() -> None:
    probs = np.full((4, 10), 0.05)
    probs[:, 3] = [0.9, 0.5, 0.49, 0.1]
    assert validity(probs, 3) == pytest.approx(0.5)
    assert validity(torch.as_tensor(probs), 3, threshold=0.8) == pytest.approx(0.25)
    with pytest.raises(InputError, match="digit=10"):
        validity(probs, 10)
