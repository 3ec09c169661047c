"""Building the chosen surrogate, and choosing the data it learns from.

Every run imports only the surrogate its config names (:data:`lso.surrogates.registry.
SURROGATES`), so editing the GP reruns the GP runs and not the tree-ensemble runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lso.config.types import SurrogateSettings
from lso.surrogates.registry import SURROGATES
from lso.utils import InputError


def build_surrogate(settings: SurrogateSettings, *, device: Any = None, seed: int = 0) -> Any:
    """An unfitted surrogate of ``settings.type`` with that type's options.

    ``device`` and ``seed`` come from the run, not the config: the optimiser passes the
    loop's device and the iteration's seed.
    """
    return SURROGATES.load(settings.type)(**settings.options(), device=device, seed=seed)


def select_training_set(
    X: Any, y: np.ndarray, n_best: int | None, n_random: int | None, rng: np.random.Generator
) -> tuple[Any, np.ndarray]:
    """The surrogate's training data: all points, or the best plus random others.

    Tripp et al. fit the GP on the ``n_best`` highest-scoring points plus ``n_random`` others
    drawn uniformly from the rest, which keeps the fit cheap while resolving the region that
    matters. With both counts ``None`` every point is used (the thesis).
    """
    y = np.asarray(y)
    if n_best is None and n_random is None:
        return X, y
    for key, value in (("n_best", n_best), ("n_random", n_random)):
        if value is not None and value < 0:
            raise InputError(f"optimizer.{key} must be >= 0, got {value}")
    order = np.argsort(-y, kind="stable")
    best, rest = order[: n_best or 0], order[n_best or 0 :]
    chosen = rng.choice(rest, size=min(n_random or 0, len(rest)), replace=False)
    index = np.sort(np.concatenate([best, chosen]).astype(np.int64))
    return X[index], y[index]
