"""The "perfect" grid optimiser for 2-D latent spaces (Tripp et al.'s shapes task, the thesis).

It decodes a regular grid, keeps the points the validity constraint accepts, and returns the
latent points whose decoded images score best under the true objective. It is an oracle: it
evaluates every candidate image with the black box, and those evaluations are not counted as
queries (as in both originals). The loop records how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lso.config.types import OptimizerSettings
from lso.models.base import LatentModel, decode_queries
from lso.optimizers.base import (
    Proposal,
    SearchContext,
    image_keys,
    log_density_of,
)
from lso.utils import InputError


def latent_grid(bounds: float, grid_len: int) -> np.ndarray:
    """``grid_len``² points on [-bounds, bounds]², first coordinate varying slowest."""
    axis = np.linspace(-bounds, bounds, grid_len)
    return np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)


@dataclass
class GridOptimizer:
    """Best-scoring unique, valid, unseen grid decodes; ties go to the earlier grid point."""

    bounds: float
    grid_len: int

    @classmethod
    def from_settings(cls, settings: OptimizerSettings) -> GridOptimizer:
        return cls(bounds=settings.bounds, grid_len=settings.grid_len)

    def state_dict(self) -> dict:
        """The grid keeps nothing between rounds."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore; see :meth:`state_dict`."""

    def propose(self, model: LatentModel, n: int, context: SearchContext) -> Proposal:
        if model.latent_dim != 2:
            raise InputError(
                f"optimizer.type 'grid' needs a 2-D latent space; the model has {model.latent_dim}"
            )
        grid = latent_grid(self.bounds, self.grid_len)
        log_density = log_density_of(context.constraint, grid, context.device)
        if context.constraint is not None:
            keep = log_density >= context.constraint.threshold
            grid, log_density = grid[keep], log_density[keep]
        images = decode_queries(model, grid, context.device)
        first = _first_unseen_unique(image_keys(images), context.known)
        grid, images, log_density = grid[first], images[first], log_density[first]
        scores = context.objective(images)
        best = np.argsort(-scores, kind="stable")[:n]
        return Proposal(grid[best], images[best], log_density[best], oracle_evaluations=len(first))


def _first_unseen_unique(keys: list[bytes], known: set[bytes]) -> np.ndarray:
    """Indices of the first occurrence of each image that is not already in ``known``."""
    seen: set[bytes] = set()
    keep = []
    for index, key in enumerate(keys):
        if key not in seen and key not in known:
            keep.append(index)
        seen.add(key)
    return np.asarray(keep, dtype=np.int64)
