"""Validity constraints: latent densities below which decoded images stop looking like data.

Latent optimisation happily walks to regions the decoder never saw, where images are
garbage with high scores. The thesis therefore only queries latent points whose density
under a model of the data's encodings exceeds a threshold. Densities are torch functions, so
the same object filters candidate grids and gives analytic gradients to constrained
optimisers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lso.models.base import LatentModel
from lso.utils import InputError

CONSTRAINT_KINDS = ("none", "gmm_full", "gmm_fit")


@dataclass
class DensityConstraint:
    """log p(z) >= ``threshold`` under a Gaussian mixture with diagonal or full covariances.

    ``means`` (K, d), ``log_weights`` (K,), and per component either ``variances`` (K, d) for
    diagonal Gaussians or ``precision_cholesky`` (K, d, d) for full ones.
    """

    threshold: float
    means: torch.Tensor
    log_weights: torch.Tensor
    variances: torch.Tensor | None = None
    precision_cholesky: torch.Tensor | None = None
    chunk_size: int = 4096

    def log_density(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) for a batch of latent points (n, d); differentiable in ``z``."""
        z = z.to(self.means.dtype)
        chunks = [self._log_density_chunk(part) for part in z.split(self.chunk_size)]
        return torch.cat(chunks) if chunks else z.new_zeros(0)

    def _log_density_chunk(self, z: torch.Tensor) -> torch.Tensor:
        d = z.shape[1]
        if self.variances is not None:
            diff = z[:, None, :] - self.means[None]
            maha = (diff.pow(2) / self.variances[None]).sum(-1)
            log_det = self.variances.log().sum(-1)
            component = -0.5 * (maha + log_det[None] + d * math.log(2 * math.pi))
        else:
            assert self.precision_cholesky is not None
            diff = z[:, None, :] - self.means[None]
            projected = torch.einsum("nkd,kde->nke", diff, self.precision_cholesky)
            maha = projected.pow(2).sum(-1)
            log_det = torch.diagonal(self.precision_cholesky, dim1=-2, dim2=-1).log().sum(-1)
            component = -0.5 * (maha + d * math.log(2 * math.pi)) + log_det[None]
        return torch.logsumexp(component + self.log_weights[None], dim=1)

    def is_valid(self, z: torch.Tensor) -> torch.Tensor:
        """Boolean mask of points inside the constraint."""
        with torch.no_grad():
            return self.log_density(z) >= self.threshold


def gmm_full(means: torch.Tensor, log_vars: torch.Tensor, threshold: float) -> DensityConstraint:
    """One equally weighted diagonal Gaussian per encoded data point (the aggregate posterior).

    The log density is normalised by the number of components; the original added log(1/2500)
    (the grid size) instead, which made its threshold depend on the grid.
    """
    n = means.shape[0]
    return DensityConstraint(
        threshold=threshold,
        means=means.double(),
        variances=log_vars.double().exp(),
        log_weights=torch.full((n,), -math.log(n), dtype=torch.float64, device=means.device),
    )


def gmm_fit(
    codes: torch.Tensor, threshold: float, n_components: int, seed: int
) -> DensityConstraint:
    """A full-covariance scikit-learn GMM fitted to the encoded data points."""
    # imported here: scikit-learn costs a second of start-up, and gmm_full runs never use it
    from sklearn.mixture import GaussianMixture

    if n_components > codes.shape[0]:
        raise InputError(
            f"constraint.n_components ({n_components}) exceeds the number of data points "
            f"({codes.shape[0]})"
        )
    gmm = GaussianMixture(
        n_components=n_components,
        covariance_type="full",
        max_iter=2000,
        tol=1e-3,
        random_state=seed,
        reg_covar=1e-6,
    ).fit(codes.detach().cpu().double().numpy())
    device = codes.device
    return DensityConstraint(
        threshold=threshold,
        means=torch.as_tensor(gmm.means_, dtype=torch.float64, device=device),
        log_weights=torch.as_tensor(np.log(gmm.weights_), dtype=torch.float64, device=device),
        precision_cholesky=torch.as_tensor(
            gmm.precisions_cholesky_, dtype=torch.float64, device=device
        ),
    )


@torch.no_grad()
def encode_dataset(
    model: LatentModel, images: torch.Tensor, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Encoder means (and log-variances for a VAE) of every image, in batches."""
    model.eval()
    means, log_vars = [], []
    for start in range(0, len(images), batch_size):
        mean, log_var = model.encode(images[start : start + batch_size])
        means.append(mean)
        if log_var is not None:
            log_vars.append(log_var)
    return torch.cat(means), (torch.cat(log_vars) if log_vars else None)


def build_constraint(
    kind: str,
    model: LatentModel,
    images: torch.Tensor,
    *,
    threshold: float | None = None,
    n_components: int = 10,
    seed: int = 0,
) -> DensityConstraint | None:
    """Fit the constraint ``kind`` to the encodings of ``images`` under ``model``.

    Both GMM constraints model the *aggregate posterior*, the distribution of codes the
    decoder was trained on: ``gmm_full`` exactly (one Gaussian per datum), ``gmm_fit`` by a
    GMM fitted to one posterior sample per datum (a deterministic encoder's codes for an RAE).
    Fitting to encoder means instead would ignore the posterior spread, and for a VAE whose
    KL term has switched dimensions off it gives a degenerate density that no point off the
    data manifold can satisfy.
    """
    if kind == "none":
        return None
    if kind not in CONSTRAINT_KINDS:
        raise InputError(f"constraint.type {kind!r} is unknown; expected one of {CONSTRAINT_KINDS}")
    if threshold is None:
        raise InputError(f"constraint.threshold is required for constraint type {kind!r}")
    means, log_vars = encode_dataset(model, images)
    if kind == "gmm_full":
        if log_vars is None:
            raise InputError(
                "constraint.type 'gmm_full' needs an encoder variance; "
                f"model type {model.kind!r} has none (use 'gmm_fit')"
            )
        return gmm_full(means, log_vars, threshold)
    codes = means
    if log_vars is not None:
        generator = torch.Generator(device=means.device).manual_seed(seed)
        noise = torch.randn(means.shape, generator=generator, device=means.device)
        codes = means + noise * torch.exp(0.5 * log_vars)
    return gmm_fit(codes, threshold, n_components, seed)
