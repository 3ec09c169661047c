"""Weightings (``weighting.type``) and black-box objectives (``objective``) by config name.

Standard library only: the Snakefile reads it (see :mod:`lso.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.registry import Entry, Registry


@dataclass(frozen=True)
class WeightingTraits:
    """``replaces_data``: queries replace the oldest data instead of joining them (FB)."""

    replaces_data: bool = False


WEIGHTINGS: Registry[WeightingTraits] = Registry(
    "weighting.type",
    {
        name: Entry("lso.core.weighting", function, WeightingTraits(name == "fb"))
        for name, function in (
            ("rank", "rank_weights"),
            ("uniform", "uniform_weights"),
            ("dbas", "dbas_weights"),
            ("cem-pi", "cem_pi_weights"),
            ("rwr", "rwr_weights"),
            ("fb", "fb_weights"),
        )
    },
)


@dataclass(frozen=True)
class ObjectiveTraits:
    """``family``: the images it scores. ``predictor``: it is a class built from the trained
    predictor's checkpoint (``load(path, device)``) rather than a plain function of images."""

    family: str
    predictor: bool = False


OBJECTIVES: Registry[ObjectiveTraits] = Registry(
    "objective",
    {
        "thickness": Entry("lso.tasks.digits.objective", "thickness", ObjectiveTraits("digits")),
        "expected_level": Entry(
            "lso.tasks.faces.objective", "SmileObjective", ObjectiveTraits("faces", predictor=True)
        ),
    },
)
