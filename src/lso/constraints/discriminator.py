"""The discriminator constraint of a GAN: D(G(z)) at least its quantile over prior draws."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from lso.models.base import LatentModel
from lso.utils import InputError


@dataclass
class DiscriminatorConstraint:
    """D(G(z)) >= ``threshold``: the GAN's own judgement of which latent points give faces.

    ``log_density`` is named for the interface the optimisers share with
    :class:`DensityConstraint`; here it is the discriminator's *logit* of the generated image,
    differentiable in ``z`` through generator and discriminator (both in evaluation mode:
    running batch-norm statistics, spectral norms without a power iteration). A
    hinge-trained discriminator is not calibrated (the thesis's sigmoid of it is no
    probability), so the threshold is not a level of realism but a rank: the ``quantile`` of
    the logits of prior samples (:func:`discriminator_constraint`). With 0.5, the point must
    look at least as real to the critic as the median face the generator makes.
    """

    model: LatentModel
    threshold: float
    chunk_size: int = 256
    fit_state: dict[str, torch.Tensor] = field(default_factory=dict)
    fitted_to: None = None

    def log_density(self, z: torch.Tensor) -> torch.Tensor:
        """The discriminator's logit at each latent point (n, d) -> (n,), in ``z``'s dtype."""
        device = next(self.model.parameters()).device
        logits = [
            self.model.discriminate(self.model.decode(part.to(device, torch.float32)))
            for part in z.split(self.chunk_size)
        ]
        return torch.cat(logits).to(z.dtype) if logits else z.new_zeros(0)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draws from the GAN's prior N(0, I): where the constraint's threshold was set."""
        return rng.standard_normal((n, self.model.latent_dim))

    def is_valid(self, z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.log_density(z) >= self.threshold


def discriminator_constraint(
    model: LatentModel, quantile: float, n_samples: int, seed: int
) -> DiscriminatorConstraint:
    """The constraint with its threshold at the ``quantile`` of ``n_samples`` prior logits."""
    model.eval()
    constraint = DiscriminatorConstraint(model=model, threshold=-math.inf)
    prior = constraint.sample(n_samples, np.random.default_rng(seed))
    with torch.no_grad():
        logits = constraint.log_density(torch.as_tensor(prior, dtype=torch.float64))
    constraint.threshold = float(np.quantile(logits.cpu().numpy(), quantile))
    return constraint


def fit_discriminator(
    model: LatentModel,
    images: torch.Tensor | None,
    *,
    quantile: float,
    n_samples: int,
    seed: int,
    warm_start: dict[str, torch.Tensor],
) -> DiscriminatorConstraint:
    """The constraint of the GAN as it is now; it asks the GAN itself, not the ``images``."""
    del images, warm_start
    if not hasattr(model, "discriminate"):
        raise InputError(
            f"constraint.type 'discriminator' needs an sn_gan; model type {model.kind!r} "
            "has no discriminator"
        )
    return discriminator_constraint(model, quantile, n_samples, seed)
