"""Latent optimisers by config name (``optimizer.type``), and what each can search.

Standard library only: the Snakefile reads it (see :mod:`lso.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.registry import Entry, Registry


@dataclass(frozen=True)
class OptimizerTraits:
    """``latents``: the latent kinds it searches (see :class:`lso.models.registry.ModelTraits`).
    ``two_d_only``: it enumerates a 2-D grid. ``surrogate``: it fits a score model to the data
    (so standard LSO needs a batch size, and a model without an encoder generated samples)."""

    latents: tuple[str, ...] = ("continuous",)
    two_d_only: bool = False
    surrogate: bool = True


OPTIMIZERS: Registry[OptimizerTraits] = Registry(
    "optimizer.type",
    {
        "grid": Entry(
            "lso.optimizers.grid",
            "GridOptimizer.from_settings",
            OptimizerTraits(two_d_only=True, surrogate=False),
        ),
        "local": Entry("lso.optimizers.local", "MultiStartOptimizer", OptimizerTraits()),
        "sampling": Entry("lso.optimizers.bayesopt", "SamplingOptimizer", OptimizerTraits()),
        # sampling in rounds of M on a warm sparse GP; the schema gives it its own defaults
        "stronger_nas": Entry("lso.optimizers.bayesopt", "SamplingOptimizer", OptimizerTraits()),
        "codes": Entry(
            "lso.optimizers.codes", "CodeOptimizer", OptimizerTraits(latents=("codes",))
        ),
        # TuRBO in the latent space; LOL-BO with joint_update
        "turbo": Entry("lso.optimizers.turbo", "TurboOptimizer", OptimizerTraits()),
    },
)
