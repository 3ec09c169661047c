"""Black-box objectives: functions from decoded images to scores that the loop maximises."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lso.data.mnist import thickness
from lso.utils import InputError

Objective = Callable[[np.ndarray], np.ndarray]

OBJECTIVES: dict[str, Objective] = {"thickness": thickness}


def get_objective(name: str) -> Objective:
    """The objective called ``name`` in the config."""
    if name not in OBJECTIVES:
        raise InputError(f"objective {name!r} is unknown; expected one of {sorted(OBJECTIVES)}")
    return OBJECTIVES[name]
