"""The "perfect" grid optimiser for 2-D latent spaces (Tripp et al.'s shapes task, the thesis).

It decodes a regular grid, keeps the points the validity constraint accepts, and returns the
latent points whose decoded images score best under the true objective. It is an oracle: it
evaluates every candidate image with the black box, and those evaluations are not counted as
queries (as in both originals). The loop records how many there were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lso.constraints import DensityConstraint
from lso.models.base import LatentModel
from lso.utils import InputError


@dataclass
class Proposal:
    """What an optimiser returns: latent points and their decoded, binarised images."""

    latents: np.ndarray  # (n, d) float64
    images: np.ndarray  # (n, 28, 28) float32 in {0, 1}
    log_density: np.ndarray  # (n,) float64, NaN without a constraint
    oracle_evaluations: int = 0


def image_keys(images: np.ndarray) -> list[bytes]:
    """Hashable identities of binary images, used to de-duplicate queries and data."""
    flat = images.reshape(len(images), int(np.prod(images.shape[1:]))) > 0.5
    return [row.tobytes() for row in np.packbits(flat, axis=1)]


def latent_grid(bounds: float, grid_len: int) -> np.ndarray:
    """``grid_len``² points on [-bounds, bounds]², first coordinate varying slowest."""
    axis = np.linspace(-bounds, bounds, grid_len)
    return np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)


@torch.no_grad()
def decode_binary(
    model: LatentModel, latents: np.ndarray, device: torch.device, batch_size: int = 1024
) -> np.ndarray:
    """Decode latent points to {0, 1} images by rounding the pixel probabilities."""
    model.eval()
    parts = []
    for start in range(0, len(latents), batch_size):
        z = torch.as_tensor(latents[start : start + batch_size], dtype=torch.float32, device=device)
        parts.append((model.decode(z) > 0.5).float().cpu().numpy())
    return np.concatenate(parts) if parts else np.zeros((0, 28, 28), np.float32)


@dataclass
class GridOptimizer:
    """Best-scoring unique, valid, unseen grid decodes; ties go to the earlier grid point."""

    bounds: float = 3.0
    grid_len: int = 50

    def __post_init__(self) -> None:
        if self.bounds <= 0 or self.grid_len < 2:
            raise InputError(
                f"optimizer.bounds must be > 0 and optimizer.grid_len >= 2 "
                f"(got {self.bounds}, {self.grid_len})"
            )

    def propose(
        self,
        model: LatentModel,
        n: int,
        *,
        objective: Callable[[np.ndarray], np.ndarray],
        constraint: DensityConstraint | None,
        known: set[bytes],
        device: torch.device,
    ) -> Proposal:
        if model.latent_dim != 2:
            raise InputError(
                f"optimizer.type 'grid' needs a 2-D latent space; the model has {model.latent_dim}"
            )
        grid = latent_grid(self.bounds, self.grid_len)
        log_density = _log_density(constraint, grid, device)
        if constraint is not None:
            keep = log_density >= constraint.threshold
            grid, log_density = grid[keep], log_density[keep]
        images = decode_binary(model, grid, device)
        first = _first_unseen_unique(image_keys(images), known)
        grid, images, log_density = grid[first], images[first], log_density[first]
        scores = objective(images)
        best = np.argsort(-scores, kind="stable")[:n]
        return Proposal(grid[best], images[best], log_density[best], oracle_evaluations=len(first))


def _log_density(
    constraint: DensityConstraint | None, latents: np.ndarray, device: torch.device
) -> np.ndarray:
    if constraint is None:
        return np.full(len(latents), np.nan)
    with torch.no_grad():
        z = torch.as_tensor(latents, dtype=torch.float64, device=device)
        return constraint.log_density(z).cpu().numpy()


def _first_unseen_unique(keys: list[bytes], known: set[bytes]) -> np.ndarray:
    """Indices of the first occurrence of each image that is not already in ``known``."""
    seen: set[bytes] = set()
    keep = []
    for index, key in enumerate(keys):
        if key not in seen and key not in known:
            keep.append(index)
        seen.add(key)
    return np.asarray(keep, dtype=np.int64)
