"""Surrogates of the score by config name (``optimizer.surrogate.type``).

Each run imports only the surrogate it chooses, and only that module is among its code
inputs: editing the GP does not rerun the tree-ensemble runs. Standard library only: the
Snakefile reads it (see :mod:`lso.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.registry import Entry, Registry


@dataclass(frozen=True)
class SurrogateTraits:
    """``latent``: the latent kind it models (vectors, or grids of codes)."""

    latent: str = "continuous"


SURROGATES: Registry[SurrogateTraits] = Registry(
    "optimizer.surrogate.type",
    {
        "gp": Entry("lso.surrogates.gp", "GPSurrogate", SurrogateTraits()),
        "dngo": Entry("lso.surrogates.dngo", "DNGOSurrogate", SurrogateTraits()),
        "trees": Entry("lso.surrogates.trees", "TreeEnsembleSurrogate", SurrogateTraits("codes")),
        "categorical_gp": Entry(
            "lso.surrogates.categorical_gp", "CategoricalGPSurrogate", SurrogateTraits("codes")
        ),
    },
)
