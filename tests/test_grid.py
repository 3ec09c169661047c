"""The grid ("perfect") optimiser on a toy decoder whose best point is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.constraints.gmm import gmm_full
from lso.models.base import BernoulliImageModel
from lso.optimizers.base import SearchContext, image_keys
from lso.optimizers.grid import GridOptimizer, latent_grid
from lso.tasks.digits.objective import thickness
from lso.utils import InputError


class BarDecoder(BernoulliImageModel):
    image_shape = (28, 28)
    """Decodes z to a vertical bar whose width grows with z1 (and ignores z2 beyond its sign).

    Thickness is therefore maximal at the largest z1 on the grid; many grid points decode to
    the same image, which exercises de-duplication.
    """

    kind = "toy"

    def __init__(self) -> None:
        super().__init__(latent_dim=2)

    def encode(self, x):
        raise NotImplementedError

    def loss(self, x):
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        width = torch.clamp(((z[:, 0] + 3) * 4).round(), 0, 27)
        columns = torch.arange(28, dtype=z.dtype)
        bar = (columns[None, :] <= width[:, None]).to(z.dtype)
        image = bar[:, None, :].expand(-1, 28, -1).clone()
        image[:, 0, 0] = (z[:, 1] > 0).to(z.dtype)  # z2's sign flips one pixel
        return (image * 20 - 10)[:, None]


def context(known=frozenset(), constraint=None) -> SearchContext:
    return SearchContext(
        objective=thickness,
        constraint=constraint,
        known=set(known),
        device=torch.device("cpu"),
        data_images=torch.zeros(0, 28, 28),
        data_scores=np.zeros(0),
        seed=0,
    )


def propose(optimizer, n, known=frozenset(), constraint=None):
    return optimizer.propose(BarDecoder(), n, context(known, constraint))


def test_grid_order_is_first_coordinate_slowest() -> None:
    grid = latent_grid(1.0, 3)
    assert grid.shape == (9, 2)
    assert grid[:3, 0].tolist() == [-1.0] * 3
    assert grid[:3, 1].tolist() == [-1.0, 0.0, 1.0]


def test_returns_the_best_unique_images_in_score_order() -> None:
    proposal = propose(GridOptimizer(bounds=3, grid_len=25), n=4)
    scores = thickness(proposal.images)
    assert np.all(np.diff(scores) <= 0)
    assert proposal.latents[0, 0] == pytest.approx(3.0)  # widest bar at the largest z1
    assert len(set(image_keys(proposal.images))) == 4
    assert proposal.oracle_evaluations < 25 * 25  # duplicates were scored once


def test_never_returns_known_images() -> None:
    optimizer = GridOptimizer(bounds=3, grid_len=25)
    first = propose(optimizer, n=3)
    second = propose(optimizer, n=3, known=image_keys(first.images))
    assert not set(image_keys(second.images)) & set(image_keys(first.images))
    assert thickness(second.images).max() <= thickness(first.images).min()


def test_respects_the_constraint() -> None:
    constraint = gmm_full(torch.zeros(1, 2), torch.zeros(1, 2), threshold=-4.0)
    proposal = propose(GridOptimizer(bounds=3, grid_len=25), n=5, constraint=constraint)
    assert np.all(proposal.log_density >= -4.0)
    assert np.all(
        np.linalg.norm(proposal.latents, axis=1) <= np.sqrt(2 * (4.0 - np.log(2 * np.pi)))
    )


def test_returns_fewer_points_when_the_grid_runs_out() -> None:
    proposal = propose(GridOptimizer(bounds=3, grid_len=5), n=100)
    assert 0 < len(proposal.latents) < 25


def test_rejects_non_2d_models() -> None:
    model = BarDecoder()
    model.latent_dim = 16
    with pytest.raises(InputError, match="2-D"):
        GridOptimizer(bounds=3, grid_len=5).propose(model, 1, context())
