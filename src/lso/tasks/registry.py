"""Task families by name (``digits``, ``faces``): where each family's prepared data are read.

A data set's ``source`` decides its family; a model's family is in its registry traits
(:mod:`lso.models.registry`), an objective's in :mod:`lso.core.registry`. Steps that need a
family's data load its module by name here, so a digit model's pretraining does not depend on
the faces code. Standard library only: the Snakefile reads it (see :mod:`lso.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.registry import Entry, Registry


@dataclass(frozen=True)
class TaskTraits:
    """``sources``: the ``datasets.<name>.source`` values of the family."""

    sources: tuple[str, ...]


TASKS: Registry[TaskTraits] = Registry(
    "data family",
    {
        "digits": Entry(
            "lso.tasks.digits.dataset",
            "load_generative_data",
            TaskTraits(("embedded", "idx", "npz")),
        ),
        "faces": Entry(
            "lso.tasks.faces.dataset",
            "load_generative_data",
            TaskTraits(("generated", "celeba_dialog", "celeba")),
        ),
    },
)


def family_of(source: str) -> str:
    """The family whose data come from ``source``."""
    for family in TASKS:
        if source in TASKS.traits(family).sources:
            return family
    raise KeyError(source)
