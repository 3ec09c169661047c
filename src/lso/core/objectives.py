"""Black-box objectives: functions from queried images to the scores the loop maximises.

``thickness`` scores binary digits by themselves; ``expected_level`` needs the trained,
temperature-scaled predictor (a checkpoint), so it is built from that file. The
implementation is chosen by name (:data:`lso.core.registry.OBJECTIVES`) and its module imported
only then, so a digit run never loads the faces predictor's code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from lso.core.registry import OBJECTIVES
from lso.tasks.registry import TASKS
from lso.utils import InputError, PathLike

Objective = Callable[[np.ndarray], np.ndarray]


def build_objective(
    name: str, predictor: PathLike | None = None, device: torch.device | None = None
) -> Objective:
    """The objective called ``name`` in the config; ``predictor`` for predictor-based ones."""
    implementation = OBJECTIVES.load(name)
    if not OBJECTIVES.traits(name).predictor:
        return implementation
    if predictor is None:
        raise InputError(f"objective {name!r} needs a predictor checkpoint")
    return implementation.load(predictor, device or torch.device("cpu"))


def training_data(dataset_path: PathLike, objective_name: str) -> dict:
    """The prepared data set of the objective's family, 8-bit where the family stores it so."""
    return TASKS.load(OBJECTIVES.traits(objective_name).family)(dataset_path, compact=True)


def score_in_chunks(objective: Objective, images: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """The objective of 8-bit images, converted to [0, 1] a chunk at a time (no float copy of
    all of them). A chunk is a multiple of every scoring batch (256 on the CPU, 2,048 on a
    GPU), so the objective sees the batches it would see on the whole array."""
    if images.dtype != np.uint8:
        return objective(images)
    if len(images) == 0:
        return objective(images.astype(np.float32))
    parts = [
        objective(images[start : start + chunk].astype(np.float32) / 255.0)
        for start in range(0, len(images), chunk)
    ]
    return np.concatenate(parts)
