"""Validity constraints by config name (``constraint.type``), and what each needs of a model.

Standard library only: the Snakefile reads it (see :mod:`lso.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.registry import Entry, Registry


@dataclass(frozen=True)
class ConstraintTraits:
    """``needs``: the model traits it requires (:class:`lso.models.registry.ModelTraits`
    fields that must be true). ``latents``: the latent kinds it can describe. ``reads_data``:
    whether it is fitted to the run's data (which grow every round) or to the model alone,
    so that one fit serves every round until the model is retrained."""

    needs: tuple[str, ...] = ()
    latents: tuple[str, ...] = ("continuous",)
    reads_data: bool = True


CONSTRAINTS: Registry[ConstraintTraits] = Registry(
    "constraint.type",
    {
        "none": Entry(
            "lso.constraints.base",
            "build_constraint",
            ConstraintTraits(latents=("continuous", "codes")),
        ),
        "gmm_full": Entry(
            "lso.constraints.gmm", "fit_gmm_full", ConstraintTraits(needs=("encoder_variance",))
        ),
        "gmm_fit": Entry(
            "lso.constraints.gmm", "fit_gmm_fit", ConstraintTraits(needs=("encoder",))
        ),
        "discriminator": Entry(
            "lso.constraints.discriminator",
            "fit_discriminator",
            ConstraintTraits(needs=("discriminator",), reads_data=False),
        ),
    },
)
