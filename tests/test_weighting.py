"""Tests of the defining properties of the weighted-retraining data weights."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from lso.core.weighting import (
    cem_pi_weights,
    compute_weights,
    dbas_weights,
    effective_sample_size,
    fb_keep_mask,
    fb_weights,
    rank_weights,
    rwr_weights,
    uniform_weights,
    weight_mass_on_top,
)
from lso.utils import InputError


@pytest.fixture
def scores() -> np.ndarray:
    return np.random.default_rng(0).normal(size=200)


def test_rank_weights_non_increasing_in_rank(scores: np.ndarray) -> None:
    weights = rank_weights(scores, k=0.01)
    by_rank = weights[np.argsort(-scores)]
    assert np.all(np.diff(by_rank) <= 0)
    assert weights.dtype == np.float64 and np.all(weights > 0)


@pytest.mark.parametrize("k", [1e-3, 0.1, 10.0])
def test_rank_weights_extreme_ratio(scores: np.ndarray, k: float) -> None:
    weights = rank_weights(scores, k=k)
    n = len(scores)
    assert weights.max() / weights.min() == pytest.approx((k * n + n - 1) / (k * n))


def test_rank_weights_infinite_k_is_uniform(scores: np.ndarray) -> None:
    np.testing.assert_array_equal(rank_weights(scores, k=float("inf")), np.ones(len(scores)))


@pytest.mark.parametrize(("fraction", "mass"), [(0.01, 0.35), (0.1, 0.67)])
def test_rank_weights_mass_on_top(fraction: float, mass: float) -> None:
    scores = np.random.default_rng(1).random(10_000)
    weights = rank_weights(scores, k=1e-3)
    assert weight_mass_on_top(scores, weights, fraction) == pytest.approx(mass, abs=0.03)


def test_rank_weights_ties_equal() -> None:
    scores = np.array([3.0, 1.0, 3.0, 2.0, 1.0, 3.0])
    weights = rank_weights(scores, k=1.0)
    n = len(scores)
    np.testing.assert_allclose(weights[[0, 2, 5]], 1 / n)  # rank 0 for all three
    assert weights[3] == pytest.approx(1 / (n + 3))
    np.testing.assert_allclose(weights[[1, 4]], 1 / (n + 4))


def test_uniform_and_fb_weights_are_ones(scores: np.ndarray) -> None:
    np.testing.assert_array_equal(uniform_weights(scores), np.ones(len(scores)))
    np.testing.assert_array_equal(fb_weights(scores, quantile=0.9), np.ones(len(scores)))


def test_fb_keep_mask_selects_top_quantile() -> None:
    scores = np.arange(10.0)
    np.testing.assert_array_equal(fb_keep_mask(scores, 0.8), scores >= np.quantile(scores, 0.8))
    assert fb_keep_mask(scores, 0.8).sum() == 2


def test_dbas_without_noise_equals_cem_pi(scores: np.ndarray) -> None:
    np.testing.assert_array_equal(
        dbas_weights(scores, quantile=0.9, noise=0.0), cem_pi_weights(scores, quantile=0.9)
    )
    assert cem_pi_weights(scores, quantile=0.9).sum() == 20


def test_dbas_with_noise_is_probability_monotone_in_score(scores: np.ndarray) -> None:
    weights = dbas_weights(scores, quantile=0.9, noise=0.5)
    assert np.all((weights > 0) & (weights < 1))
    assert np.all(np.diff(weights[np.argsort(scores)]) >= 0)


def test_rwr_normalised_and_concentrates_with_alpha(scores: np.ndarray) -> None:
    soft, sharp = rwr_weights(scores, alpha=0.5), rwr_weights(scores, alpha=5.0)
    assert soft.sum() == pytest.approx(1.0) and sharp.sum() == pytest.approx(1.0)
    assert sharp.max() > soft.max()
    assert effective_sample_size(sharp) < effective_sample_size(soft)


def test_rwr_survives_large_scores() -> None:
    weights = rwr_weights(np.array([1e4, 1e4 - 1.0]), alpha=1.0)
    assert np.all(np.isfinite(weights)) and weights.sum() == pytest.approx(1.0)


def test_effective_sample_size_of_uniform_is_n() -> None:
    assert effective_sample_size(np.ones(37)) == pytest.approx(37)
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        ("rank", {"k": 0.01}, rank_weights),
        ("uniform", {}, uniform_weights),
        ("dbas", {"quantile": 0.9, "noise": 0.1}, dbas_weights),
        ("cem-pi", {"quantile": 0.9}, cem_pi_weights),
        ("rwr", {"alpha": 2.0}, rwr_weights),
        ("fb", {"quantile": 0.9}, fb_weights),
    ],
)
def test_compute_weights_dispatches(
    scores: np.ndarray, kind: str, params: dict, expected: Callable[..., np.ndarray]
) -> None:
    np.testing.assert_array_equal(
        compute_weights(scores, kind, **params), expected(scores, **params)
    )


@pytest.mark.parametrize(
    ("kind", "params", "match"),
    [
        ("rank", {"k": -1}, r"weighting\.k must be > 0, got -1"),
        ("rank", {"k": 0.0}, r"weighting\.k"),
        ("dbas", {"quantile": 1.5, "noise": 0.1}, r"weighting\.quantile"),
        ("dbas", {"quantile": 0.5, "noise": -0.1}, r"weighting\.noise"),
        ("cem-pi", {"quantile": -0.1}, r"weighting\.quantile"),
        ("fb", {"quantile": 2.0}, r"weighting\.quantile"),
        ("rwr", {"alpha": 0.0}, r"weighting\.alpha"),
        ("softmax", {}, r"cem-pi.*rank"),
        ("rank", {"kk": 1.0}, r"\['k'\]"),
        ("rank", {}, r"\['k'\]"),
    ],
)
def test_invalid_params_raise(scores: np.ndarray, kind: str, params: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        compute_weights(scores, kind, **params)


@pytest.mark.parametrize("bad", [np.array([]), np.array([1.0, np.nan]), np.ones((2, 2))])
def test_invalid_scores_raise(bad: np.ndarray) -> None:
    with pytest.raises(InputError, match="scores"):
        rank_weights(bad, k=1.0)


def test_weight_mass_on_top_checks_inputs(scores: np.ndarray) -> None:
    weights = np.ones(len(scores))
    assert weight_mass_on_top(scores, weights, 0.1) == pytest.approx(0.1)
    with pytest.raises(InputError, match="fraction"):
        weight_mass_on_top(scores, weights, 0.0)
    with pytest.raises(InputError, match="shape"):
        weight_mass_on_top(scores, weights[:-1], 0.1)


def test_rank_weights_use_scipy_min_ranks() -> None:
    """Ranks are counted with NumPy; they are scipy's ``rankdata(-s, "min") - 1`` exactly."""
    from scipy.stats import rankdata

    scores = np.random.default_rng(0).integers(0, 20, 500).astype(float)  # many ties
    expected = 1.0 / (1e-3 * len(scores) + rankdata(-scores, method="min") - 1)
    np.testing.assert_array_equal(rank_weights(scores, 1e-3), expected)
