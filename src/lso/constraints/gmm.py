"""The GMM constraints: log p(z) >= threshold under a Gaussian mixture of the data's codes.

Both model the *aggregate posterior*, the distribution of codes the decoder was trained on:
``gmm_full`` exactly (one Gaussian per datum, encoder mean and variance), ``gmm_fit`` by a
scikit-learn GMM fitted to one posterior sample per datum (a deterministic encoder's codes,
for an RAE). Fitting to encoder means instead would ignore the posterior spread, and for a VAE
whose KL term has switched dimensions off it gives a degenerate density that no point off the
data manifold can satisfy. Densities are torch functions, so one object filters candidates and
gives SLSQP analytic gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from lso.constraints.base import encode_dataset
from lso.models.base import LatentModel
from lso.utils import InputError


@dataclass
class DensityConstraint:
    """log p(z) >= ``threshold`` under a Gaussian mixture with diagonal or full covariances.

    ``means`` (K, d), ``log_weights`` (K,), and per component either ``variances`` (K, d) for
    diagonal Gaussians or ``precision_cholesky`` (K, d, d) for full ones. ``fit_state`` is
    what the next fit of a fitted mixture starts from (:func:`gmm_fit`); empty for
    ``gmm_full``, whose mixture is the data itself. ``fitted_to`` holds the images the
    constraint was fitted to and their encoder means, so that an optimiser searching the same
    data need not encode them again (:func:`encoder_means`).
    """

    threshold: float
    means: torch.Tensor
    log_weights: torch.Tensor
    variances: torch.Tensor | None = None
    precision_cholesky: torch.Tensor | None = None
    chunk_size: int = 4096
    fit_state: dict[str, torch.Tensor] = field(default_factory=dict)
    fitted_to: tuple[torch.Tensor, torch.Tensor] | None = None

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

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws (float64, (n, d)) from the mixture, reproducible from ``rng``.

        A full component with precision P Pᵀ (P = ``precision_cholesky``) has covariance
        P⁻ᵀ P⁻¹, so mean + P⁻ᵀ ε has it for ε ~ N(0, I).
        """
        means = self.means.detach().cpu().double()
        weights = self.log_weights.detach().cpu().double().softmax(0).numpy()
        component = rng.choice(len(weights), size=n, p=weights / weights.sum())
        samples = torch.as_tensor(rng.standard_normal((n, means.shape[1])))
        for k in np.unique(component):
            rows = torch.as_tensor(component == k)
            if self.variances is not None:
                samples[rows] *= self.variances[k].detach().cpu().double().sqrt()
            else:
                assert self.precision_cholesky is not None
                upper = self.precision_cholesky[k].detach().cpu().double().mT
                samples[rows] = torch.linalg.solve(upper, samples[rows].mT).mT
            samples[rows] += means[k]
        return samples.numpy()

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
    codes: torch.Tensor,
    threshold: float,
    n_components: int,
    seed: int,
    warm_start: dict[str, torch.Tensor] | None = None,
) -> DensityConstraint:
    """A full-covariance scikit-learn GMM fitted to the encoded data points.

    Cold, EM starts from k-means (as in the thesis). ``warm_start``, an earlier fit's
    ``fit_state`` with the same K and d, starts EM from that mixture instead: between two
    rounds the codes move a little (a few new points, 0.1 epoch of retraining, a new
    posterior sample), so EM from the last mixture meets the same tolerance in a fraction of
    the iterations and skips k-means. A state of another shape is ignored.
    """
    # imported here: scikit-learn costs a second of start-up, and gmm_full runs never use it
    from sklearn.mixture import GaussianMixture

    if n_components > codes.shape[0]:
        raise InputError(
            f"constraint.n_components ({n_components}) exceeds the number of data points "
            f"({codes.shape[0]})"
        )
    init: dict[str, object] = {}
    if warm_start and tuple(warm_start["means"].shape) == (n_components, codes.shape[1]):
        init = {
            "init_params": "random_from_data",  # the cheapest; overridden by the *_init below
            "weights_init": warm_start["weights"].double().numpy(),
            "means_init": warm_start["means"].double().numpy(),
            "precisions_init": warm_start["precisions"].double().numpy(),
        }
    gmm = GaussianMixture(
        n_components=n_components,
        covariance_type="full",
        max_iter=2000,
        tol=1e-3,
        random_state=seed,
        reg_covar=1e-6,
        **init,
    ).fit(codes.detach().cpu().double().numpy())
    device = codes.device
    precision_cholesky = torch.as_tensor(gmm.precisions_cholesky_, dtype=torch.float64)
    return DensityConstraint(
        threshold=threshold,
        means=torch.as_tensor(gmm.means_, dtype=torch.float64, device=device),
        log_weights=torch.as_tensor(np.log(gmm.weights_), dtype=torch.float64, device=device),
        precision_cholesky=precision_cholesky.to(device),
        fit_state={
            "means": torch.as_tensor(gmm.means_, dtype=torch.float64),
            "weights": torch.as_tensor(gmm.weights_, dtype=torch.float64),
            "precisions": precision_cholesky @ precision_cholesky.mT,
        },
    )


def fit_gmm_full(
    model: LatentModel,
    images: torch.Tensor,
    *,
    threshold: float | None = None,
    quantile: float | None = None,
    seed: int,
    warm_start: dict[str, torch.Tensor],
) -> DensityConstraint:
    """``gmm_full`` on the encodings of ``images`` (needs an encoder variance: a VAE); the
    threshold is absolute, or the ``quantile`` of the encoder means' own log densities."""
    del seed, warm_start  # the mixture is the data itself: nothing random, nothing to warm
    _require_one_threshold(threshold, quantile)
    means, log_vars = encode_dataset(model, images)
    if log_vars is None:
        raise InputError(
            "constraint.type 'gmm_full' needs an encoder variance; "
            f"model type {model.kind!r} has none (use 'gmm_fit')"
        )
    constraint = gmm_full(means, log_vars, -math.inf)
    constraint.threshold = _threshold(constraint, means, threshold, quantile)
    constraint.fitted_to = (images, means)
    return constraint


def fit_gmm_fit(
    model: LatentModel,
    images: torch.Tensor,
    *,
    threshold: float | None = None,
    quantile: float | None = None,
    n_components: int,
    seed: int,
    warm_start: dict[str, torch.Tensor],
) -> DensityConstraint:
    """``gmm_fit`` on one posterior sample per image (the codes, for a deterministic encoder);
    ``warm_start`` is the previous round's ``fit_state``. The threshold is absolute, or the
    ``quantile`` of the fitted codes' own log densities."""
    _require_one_threshold(threshold, quantile)
    means, log_vars = encode_dataset(model, images)
    codes = means
    if log_vars is not None:
        generator = torch.Generator(device=means.device).manual_seed(seed)
        noise = torch.randn(means.shape, generator=generator, device=means.device)
        codes = means + noise * torch.exp(0.5 * log_vars)
    constraint = gmm_fit(codes, -math.inf, n_components, seed, warm_start)
    constraint.threshold = _threshold(constraint, codes, threshold, quantile)
    constraint.fitted_to = (images, means)
    return constraint


def _require_one_threshold(threshold: float | None, quantile: float | None) -> None:
    """Checked before fitting, which may take minutes."""
    if (threshold is None) == (quantile is None):
        raise InputError("a GMM constraint needs exactly one of threshold and quantile")


def _threshold(
    constraint: DensityConstraint,
    codes: torch.Tensor,
    threshold: float | None,
    quantile: float | None,
) -> float:
    """The absolute ``threshold``, or the ``quantile`` of the codes' log densities: a model's
    log densities move with its dimension, the spread of its codes and every retraining, so a
    threshold that admits a fixed share of the data's own codes never starves the search."""
    if threshold is not None:
        return float(threshold)
    with torch.no_grad():
        densities = constraint.log_density(codes.double())
    return float(np.quantile(densities.cpu().numpy(), quantile))
