"""Data weights for weighted retraining (Tripp et al., 2020), with property values maximised.

Weighted retraining fits the generative model to a weighted data set so that its latent
space devotes more room to high-scoring points. Each weighting here maps the scores of the
current data to non-negative float64 weights, one per point; only ``rwr`` normalises them,
because the trainer samples or scales by relative weight and does not need a unit sum.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from lso.core.registry import WEIGHTINGS
from lso.utils import InputError


def rank_weights(scores: np.ndarray, k: float) -> np.ndarray:
    """Weight each point by ``1 / (k N + rank)``, rank 0 being the highest score.

    Small ``k`` concentrates weight on the best points; ``k = inf`` gives uniform weights.
    Tied scores share the minimum rank of their group, so they get equal weight instead of
    the arbitrary order a sort would give them (the original implementation's behaviour).
    """
    values = _as_scores(scores)
    if not k > 0:
        raise InputError(f"weighting.k must be > 0, got {k}")
    if math.isinf(k):
        return np.ones(len(values))
    # the number of strictly better scores: a tie group shares its minimum rank
    ranks = np.searchsorted(np.sort(-values), -values, side="left")
    return 1.0 / (k * len(values) + ranks)


def uniform_weights(scores: np.ndarray) -> np.ndarray:
    """Weight every point equally, i.e. plain (unweighted) retraining."""
    return np.ones(len(_as_scores(scores)))


def dbas_weights(scores: np.ndarray, quantile: float, noise: float) -> np.ndarray:
    """Weight by the probability that a noisy observation of the score beats the quantile.

    This is the DbAS weighting: with score noise ``N(score, noise^2)`` the weight is
    ``P(y > y*)`` for ``y*`` the ``quantile`` of the scores; with no noise it reduces to the
    CEM-PI indicator.
    """
    values = _as_scores(scores)
    _check_quantile(quantile)
    if not noise >= 0:
        raise InputError(f"weighting.noise must be >= 0, got {noise}")
    if noise == 0:
        return cem_pi_weights(values, quantile)
    from scipy.stats import norm  # imported here: most jobs that weight never need it

    cutoff = np.quantile(values, quantile)
    return norm.sf(cutoff, loc=values, scale=noise).astype(np.float64)


def cem_pi_weights(scores: np.ndarray, quantile: float) -> np.ndarray:
    """Weight 1 for points scoring at least the ``quantile`` of the scores, else 0."""
    return _top_quantile_mask(_as_scores(scores), quantile).astype(np.float64)


def rwr_weights(scores: np.ndarray, alpha: float) -> np.ndarray:
    """Reward-weighted regression: ``exp(alpha * score)``, normalised to sum to 1.

    Subtracting the maximum score before exponentiating avoids overflow without changing
    the normalised result.
    """
    values = _as_scores(scores)
    if not alpha > 0:
        raise InputError(f"weighting.alpha must be > 0, got {alpha}")
    weights = np.exp(alpha * (values - values.max()))
    return weights / weights.sum()


def fb_weights(scores: np.ndarray, quantile: float) -> np.ndarray:
    """Uniform weights: the feedback VAE does not weight, it selects (see ``fb_keep_mask``).

    ``quantile`` is accepted and checked so that one config section serves both halves.
    """
    values = _as_scores(scores)
    _check_quantile(quantile)
    return np.ones(len(values))


def fb_keep_mask(scores: np.ndarray, quantile: float) -> np.ndarray:
    """The feedback VAE's data-selection rule: keep points scoring at least the quantile."""
    return _top_quantile_mask(_as_scores(scores), quantile)


def compute_weights(scores: np.ndarray, kind: str, **params: float) -> np.ndarray:
    """Compute the weights of ``kind`` so that configs can name the weighting as a string.

    The parameters must be exactly those the weighting takes, so that a misspelt or
    irrelevant config key is reported instead of silently ignored.
    """
    function = WEIGHTINGS.load(kind)
    expected = sorted(inspect.signature(function).parameters)
    expected.remove("scores")
    if sorted(params) != expected:
        raise InputError(
            f"weighting kind {kind!r} takes parameters {expected}, got {sorted(params)}"
        )
    return function(scores, **params)


def effective_sample_size(weights: np.ndarray) -> float:
    """Return ``(sum w)^2 / sum w^2``: N for uniform weights, near 1 when one point dominates."""
    values = _as_weights(weights)
    return float(values.sum() ** 2 / np.square(values).sum())


def weight_mass_on_top(scores: np.ndarray, weights: np.ndarray, fraction: float) -> float:
    """Return the share of total weight held by the top ``fraction`` of points by score.

    The count is ``round(fraction * N)`` points (at least one). For weightings that depend
    only on the score, ties at the cut carry equal weight, so the result is well defined.
    """
    values, masses = _as_scores(scores), _as_weights(weights)
    if masses.shape != values.shape:
        raise InputError(f"weights have shape {masses.shape} but scores have {values.shape}")
    if not 0 < fraction <= 1:
        raise InputError(f"fraction must be in (0, 1], got {fraction}")
    n_top = max(1, round(fraction * len(values)))
    top = np.argsort(-values, kind="stable")[:n_top]
    return float(masses[top].sum() / masses.sum())


def _as_scores(scores: np.ndarray) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0 or not np.all(np.isfinite(values)):
        raise InputError(
            f"weighting scores must be a non-empty 1-D array of finite values, got shape "
            f"{values.shape} with {np.sum(~np.isfinite(values))} non-finite"
        )
    return values


def _as_weights(weights: np.ndarray) -> np.ndarray:
    values = np.asarray(weights, dtype=np.float64)
    if values.ndim != 1 or np.any(values < 0) or not values.sum() > 0:
        raise InputError("weights must be a 1-D array of non-negative values with positive sum")
    return values


def _check_quantile(quantile: float) -> None:
    if not 0 <= quantile <= 1:
        raise InputError(f"weighting.quantile must be in [0, 1], got {quantile}")


def _top_quantile_mask(values: np.ndarray, quantile: float) -> np.ndarray:
    _check_quantile(quantile)
    return values >= np.quantile(values, quantile)
