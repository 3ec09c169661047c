"""Validity constraints: where in the latent space decoded images still look like data.

Latent optimisation happily walks to regions the decoder never saw, where images are garbage
with high scores. The thesis therefore only queries latent points a constraint accepts: a
density of the data's codes above a threshold (:mod:`lso.constraints.gmm`) or a GAN's
discriminator score above a quantile (:mod:`lso.constraints.discriminator`). Every constraint
offers the same small interface (:class:`Constraint`), so one object filters candidates,
draws candidates from where the data lie, and gives constrained optimisers analytic gradients.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch

from lso.constraints.registry import CONSTRAINTS
from lso.models.base import LatentModel
from lso.runtime import inference_batch_size, model_device, unit_batch
from lso.utils import InputError


class Constraint(Protocol):
    """``log_density(z) >= threshold`` marks the valid latent points.

    ``log_density`` is differentiable in ``z``; ``sample`` draws from the constraint's own
    distribution; ``fit_state`` is what the next round's fit may start from; ``fitted_to``
    holds the images the constraint encoded and their encoder means (or None), so that an
    optimiser searching the same data need not encode them again.
    """

    threshold: float
    fit_state: dict[str, torch.Tensor]
    fitted_to: tuple[torch.Tensor, torch.Tensor] | None

    def log_density(self, z: torch.Tensor) -> torch.Tensor: ...

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    def is_valid(self, z: torch.Tensor) -> torch.Tensor: ...


def build_constraint(
    kind: str,
    model: LatentModel,
    images: torch.Tensor | None,
    *,
    seed: int = 0,
    warm_start: dict[str, torch.Tensor] | None = None,
    **options: Any,
) -> Constraint | None:
    """The constraint ``kind`` fitted to the current model and data (None for ``none``).

    ``options`` are the type's own settings (``threshold``; ``n_components``; ``quantile``
    and ``n_samples``: :meth:`lso.config.types.ConstraintSettings.options`). The type's module
    is imported only now (:data:`lso.constraints.registry.CONSTRAINTS`).
    """
    if kind == "none":
        return None
    fit = CONSTRAINTS.load(kind)
    try:
        return fit(model, images, seed=seed, warm_start=warm_start or {}, **options)
    except TypeError as error:
        raise InputError(f"constraint.type {kind!r}: {error}") from error


@torch.no_grad()
def encode_dataset(
    model: LatentModel, images: torch.Tensor, batch_size: int | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Encoder means (and log-variances for a VAE) of every image, in batches, on the model's
    device; 8-bit images are converted batch by batch (:func:`lso.runtime.unit_batch`).

    On one CPU thread batches of 256 digits encode in half the time of batches of 1,024
    (whose activations no longer fit in the cache; ``benchmarks/README.md``); a GPU gets
    larger ones. Encoding stays in float32 whatever the precision: the codes are the
    surrogate's inputs and the constraint's data.
    """
    model.eval()
    device = model_device(model)
    batch_size = batch_size or inference_batch_size(device, 256)
    means, log_vars = [], []
    for start in range(0, len(images), batch_size):
        mean, log_var = model.encode(unit_batch(images, slice(start, start + batch_size), device))
        means.append(mean)
        if log_var is not None:
            log_vars.append(log_var)
    return torch.cat(means), (torch.cat(log_vars) if log_vars else None)


def encoder_means(
    model: LatentModel, images: torch.Tensor, constraint: Constraint | None
) -> torch.Tensor:
    """The encoder means of ``images``, taken from ``constraint`` if it was fitted to them.

    The loop fits the constraint and then asks the optimiser to search the very same data
    tensor with the same model, so the encoding (as costly as the GMM fit itself at n = 6,300)
    is done once per round. Identity, not equality, of the tensor decides.
    """
    if constraint is not None and constraint.fitted_to is not None:
        fitted_images, means = constraint.fitted_to
        if fitted_images is images:
            return means
    return encode_dataset(model, images)[0]
