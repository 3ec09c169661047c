"""Black-box objectives: functions from queried images to the scores the loop maximises.

``thickness`` scores binary digits by themselves; ``expected_level`` needs the trained,
temperature-scaled predictor (a checkpoint), so it is built from that file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
import torch

from lso.settings import OBJECTIVES
from lso.utils import InputError, PathLike

Objective = Callable[[np.ndarray], np.ndarray]


def build_objective(
    name: str, predictor: PathLike | None = None, device: torch.device | None = None
) -> Objective:
    """The objective called ``name`` in the config; ``predictor`` for predictor-based ones."""
    if name not in OBJECTIVES:
        raise InputError(f"objective {name!r} is unknown; expected one of {sorted(OBJECTIVES)}")
    module, attribute = OBJECTIVES[name]
    implementation = getattr(importlib.import_module(module), attribute)
    if not isinstance(implementation, type):
        return implementation
    if predictor is None:
        raise InputError(f"objective {name!r} needs a predictor checkpoint")
    return implementation.load(predictor, device or torch.device("cpu"))
