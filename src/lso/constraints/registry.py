"""Validity constraints by config name (``constraint.type``), and what each needs of a model.

Standard library only: the Snakefile reads it (see :mod:`lso.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lso.registry import Entry, Registry


@dataclass(frozen=True)
class ConstraintTraits:
    """``needs``: the model traits it requires (:class:`lso.models.registry.ModelTraits`
    fields that must be true). ``latents``: the latent kinds it can describe."""

    needs: tuple[str, ...] = ()
    latents: tuple[str, ...] = ("continuous",)


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
            ConstraintTraits(needs=("discriminator",)),
        ),
    },
)
