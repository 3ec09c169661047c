"""Surrogate models of the score for Bayesian optimisation in the latent space.

``build_surrogate`` turns the config's ``optimizer.surrogate`` mapping into a fitted-on-demand
model; every surrogate is a BoTorch ``Model`` so that BoTorch's acquisition functions apply.
"""

from __future__ import annotations

from typing import Any

import torch

from lso.surrogates.base import Surrogate, select_training_set
from lso.surrogates.dngo import DNGOSurrogate
from lso.surrogates.gp import GPSurrogate
from lso.utils import InputError

SURROGATES: dict[str, type[Surrogate]] = {"gp": GPSurrogate, "dngo": DNGOSurrogate}
SURROGATE_OPTIONS = {
    "gp": (
        "kernel",
        "exact_max",
        "n_inducing",
        "max_iter",
        "sparse_max_iter",
        "prefit_size",
        "noise_floor",
        "normalize_inputs",
        "predict_batch_size",
    ),
    "dngo": ("epochs", "lr", "batch_size", "normalize_inputs", "predict_batch_size"),
}

__all__ = [
    "DNGOSurrogate",
    "GPSurrogate",
    "SURROGATE_OPTIONS",
    "Surrogate",
    "build_surrogate",
    "select_training_set",
]


def build_surrogate(
    spec: dict[str, Any], *, device: torch.device | str | None = None, seed: int = 0
) -> Surrogate:
    """An unfitted surrogate from ``{"type": "gp" | "dngo", **options}``.

    ``device`` and ``seed`` come from the run, not the config: the optimiser passes the
    loop's device and the iteration's seed.
    """
    options = dict(spec)
    kind = options.pop("type", "gp")
    if kind not in SURROGATES:
        raise InputError(
            f"optimizer.surrogate.type {kind!r} is unknown; expected one of {sorted(SURROGATES)}"
        )
    unknown = sorted(set(options) - set(SURROGATE_OPTIONS[kind]))
    if unknown:
        raise InputError(
            f"optimizer.surrogate has unknown keys {unknown} for type {kind!r}; "
            f"allowed: {list(SURROGATE_OPTIONS[kind])}"
        )
    return SURROGATES[kind](**options, device=device, seed=seed)
