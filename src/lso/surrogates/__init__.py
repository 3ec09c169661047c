"""Surrogate models of the score for Bayesian optimisation in the latent space.

``build_surrogate`` turns the validated ``optimizer.surrogate`` settings into a fitted-on-demand
model; every surrogate is a BoTorch ``Model`` so that BoTorch's acquisition functions apply.
"""

from __future__ import annotations

import torch

from lso.settings import SurrogateSettings
from lso.surrogates.base import Surrogate, select_training_set
from lso.surrogates.dngo import DNGOSurrogate
from lso.surrogates.gp import GPSurrogate

SURROGATES: dict[str, type[Surrogate]] = {"gp": GPSurrogate, "dngo": DNGOSurrogate}

__all__ = [
    "DNGOSurrogate",
    "GPSurrogate",
    "Surrogate",
    "build_surrogate",
    "select_training_set",
]


def build_surrogate(
    settings: SurrogateSettings, *, device: torch.device | str | None = None, seed: int = 0
) -> Surrogate:
    """An unfitted surrogate of ``settings.type`` with that type's options.

    ``device`` and ``seed`` come from the run, not the config: the optimiser passes the
    loop's device and the iteration's seed.
    """
    return SURROGATES[settings.type](**settings.options(), device=device, seed=seed)
