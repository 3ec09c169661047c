"""What every latent optimiser gets from the loop and gives back.

The loop hands an optimiser the current model and a :class:`SearchContext` (data, scores,
constraint, images already seen) and asks for ``n`` new points; the optimiser returns a
:class:`Proposal`. Optimisers that keep state between iterations (warm starts) expose it
through ``state_dict``/``load_state_dict`` so that a resumed run continues identically.

An optimiser that learns from the scores of its own proposals (a trust region that grows and
shrinks with its successes) is also an :class:`ObservingOptimizer`: after scoring a round the
loop tells it the scores, and it may answer with an :class:`Observation`: that it changed the
model (LOL-BO's joint fine-tuning) and which points it decoded and scored itself (LOL-BO's
recentering). Those are oracle calls like any query, so the loop records them as queries and
counts them against the budget, which it passes as ``max_evaluations``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from lso.config.types import OptimizerSettings
from lso.constraints.base import Constraint
from lso.models.base import LatentModel
from lso.optimizers.registry import OPTIMIZERS


@dataclass
class SearchContext:
    """Everything an optimiser may use to choose the next points."""

    objective: Callable[[np.ndarray], np.ndarray]
    constraint: Constraint | None
    known: set[bytes]
    device: torch.device
    # (N, *image_shape) the current training data: 8-bit levels on the host (converted batch by
    # batch, lso.runtime.unit_batch) or float images
    data_images: torch.Tensor
    data_scores: np.ndarray  # (N,) float64
    seed: int  # differs per iteration; for the optimiser's own randomness
    # The run's queries so far: a model without an encoder cannot map the data back to
    # latent points, so its surrogate learns from these (and from generated samples).
    query_latents: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (m, d)
    query_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (m,)
    model_version: int = 0  # retrainings so far; generated samples are redrawn when it changes
    run_seed: int = 0  # the run's seed, for draws that depend on the model version only


@dataclass
class Proposal:
    """Latent points and the images queried there, in the optimiser's preference order."""

    latents: np.ndarray  # (n, d) float64
    images: np.ndarray  # (n, *image_shape) float32: {0, 1}, or 8-bit levels in [0, 1]
    log_density: np.ndarray  # (n,) float64, NaN without a constraint
    oracle_evaluations: int = 0
    diagnostics: dict[str, float] = field(default_factory=dict)
    predicted_mean: np.ndarray | None = None  # surrogate's prediction of each point's score
    predicted_var: np.ndarray | None = None


@dataclass
class Evaluated:
    """Points an optimiser decoded and scored with the black box itself, as queries count."""

    latents: np.ndarray  # (m, d) float64
    images: np.ndarray  # (m, *image_shape) float32
    scores: np.ndarray  # (m,) float64


@dataclass
class Observation:
    """An optimiser's answer to a round's scores (see :class:`ObservingOptimizer`)."""

    model_updated: bool = False
    evaluated: Evaluated | None = None
    diagnostics: dict[str, float] = field(default_factory=dict)


class LatentOptimizer(Protocol):
    def propose(self, model: LatentModel, n: int, context: SearchContext) -> Proposal: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


@runtime_checkable
class ObservingOptimizer(LatentOptimizer, Protocol):
    def observe(
        self,
        model: LatentModel,
        proposal: Proposal,
        scores: np.ndarray,
        context: SearchContext,
        max_evaluations: int,
    ) -> Observation:
        """Learn from the ``scores`` of ``proposal``; ``context`` is the one it was made in
        (with the proposal's images already among ``known``), and at most
        ``max_evaluations`` oracle calls of the budget are left."""
        ...


def build_optimizer(settings: OptimizerSettings) -> LatentOptimizer:
    """The optimiser of ``settings.type``, its module imported only now
    (:data:`lso.optimizers.registry.OPTIMIZERS`): a grid run neither loads BoTorch nor depends
    on the surrogate code."""
    return OPTIMIZERS.load(settings.type)(settings)


def image_keys(images: np.ndarray) -> list[bytes]:
    """Hashable identities of queried images (binary or 8-bit), to de-duplicate queries and data.

    Two images share a key exactly when they are equal at the 8-bit precision runs store; a
    16-byte digest keeps the set small for 64x64 colour faces.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        levels = images
    else:
        levels = np.rint(np.asarray(images, dtype=np.float32) * 255).astype(np.uint8)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in levels]


def log_density_of(
    constraint: Constraint | None, latents: np.ndarray, device: torch.device
) -> np.ndarray:
    """The constraint's log density of each point (NaN without a constraint)."""
    if constraint is None:
        return np.full(len(latents), np.nan)
    with torch.no_grad():
        z = torch.as_tensor(latents, dtype=torch.float64, device=device)
        return constraint.log_density(z).cpu().numpy()
