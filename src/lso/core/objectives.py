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
