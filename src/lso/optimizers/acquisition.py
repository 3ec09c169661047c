"""Acquisition functions for maximising the score with a surrogate, via BoTorch.

Expected improvement needs an incumbent: the score to improve on. ``best`` is the largest
observed score; ``percentile:P`` the P-th percentile of the observed scores. The thesis
minimised -score with incumbent = its 10th percentile, which is ``percentile:90`` here: a
lower bar than the best keeps EI's gradients alive in a 16-D space where the best point's
improvement region is tiny.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from botorch.acquisition import (
    AcquisitionFunction,
    ExpectedImprovement,
    LogExpectedImprovement,
    qLogExpectedImprovement,
)
from botorch.exceptions.warnings import NumericsWarning
from botorch.models.model import Model
from botorch.sampling import SobolQMCNormalSampler

from lso.utils import InputError

ACQUISITIONS = {"ei": ExpectedImprovement, "log_ei": LogExpectedImprovement}


def parse_incumbent(spec: str) -> float | None:
    """The percentile named by ``spec`` ("percentile:90"), or None for "best"."""
    if spec == "best":
        return None
    prefix, _, value = str(spec).partition(":")
    try:
        percentile = float(value)
    except ValueError:
        percentile = float("nan")
    if prefix != "percentile" or not 0 <= percentile <= 100:
        raise InputError(
            f"optimizer.incumbent must be 'best' or 'percentile:P' with 0 <= P <= 100, got {spec!r}"
        )
    return percentile


def incumbent_value(y_train: np.ndarray | torch.Tensor, spec: str) -> float:
    """The score EI measures improvement over, from the surrogate's training scores."""
    y = np.asarray(torch.as_tensor(y_train).detach().cpu(), dtype=np.float64).reshape(-1)
    if len(y) == 0:
        raise InputError("the incumbent needs at least one observed score")
    percentile = parse_incumbent(spec)
    return float(y.max() if percentile is None else np.percentile(y, percentile))


def make_acquisition(
    kind: str, model: Model, y_train: np.ndarray | torch.Tensor, incumbent: str = "best"
) -> AcquisitionFunction:
    """Analytic EI or LogEI (maximising the score) over ``b x 1 x d`` inputs."""
    if kind not in ACQUISITIONS:
        raise InputError(
            f"optimizer.acquisition {kind!r} is unknown; expected one of {sorted(ACQUISITIONS)}"
        )
    best_f = incumbent_value(y_train, incumbent)
    with warnings.catch_warnings():
        # BoTorch advises LogEI over EI on every construction; EI is the thesis's choice
        # and "log_ei" is one config value away.
        warnings.simplefilter("ignore", NumericsWarning)
        return ACQUISITIONS[kind](model, best_f=best_f)


def make_batch_acquisition(
    model: Model,
    y_train: np.ndarray | torch.Tensor,
    incumbent: str = "best",
    *,
    mc_samples: int = 256,
    seed: int = 0,
) -> AcquisitionFunction:
    """qLogEI for proposing ``q`` points jointly; its Sobol base samples are seeded and fixed,
    so the acquisition is a deterministic, smooth function that gradient methods can use."""
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed)
    return qLogExpectedImprovement(
        model, best_f=incumbent_value(y_train, incumbent), sampler=sampler
    )
