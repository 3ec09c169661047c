"""A GP over code grids with BoTorch's categorical (Hamming-type) kernel.

k(x, x') = s * exp(-mean_j [x_j != x'_j] / l_j): the covariance of two grids falls with the
(lengthscale-weighted) share of positions in which they differ. The GP's posterior standard
deviation is the exploration term the thesis's ENTMOOT run lacked; the acquisition is
expected improvement over the best training score (BoTorch), evaluated in blocks.

BoTorch's kernel builds the whole (n, n', d) mismatch tensor divided by the lengthscales,
and its backward pass another one; on 400 grids of 64 codes that made the marginal-likelihood
fit the bulk of each proposal. `HammingKernel` computes the same values position by position,
so the largest tensor is (n, n'): 5-12x faster forward + backward (benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.kernels.categorical import CategoricalKernel
from botorch.models.transforms.outcome import Standardize
from gpytorch.kernels import ScaleKernel
from gpytorch.mlls import ExactMarginalLogLikelihood

EVAL_CHUNK = 2048


class HammingKernel(CategoricalKernel):
    """BoTorch's `CategoricalKernel`, summed one position at a time to keep memory (n, n')."""

    def forward(
        self,
        x1: torch.Tensor,
        x2: torch.Tensor,
        diag: bool = False,
        last_dim_is_batch: bool = False,
    ) -> torch.Tensor:
        if last_dim_is_batch:
            return super().forward(x1, x2, diag=diag, last_dim_is_batch=True)
        n_positions = x1.shape[-1]
        lengthscale = self.lengthscale.expand(*self.lengthscale.shape[:-1], n_positions)
        weights = 1.0 / (lengthscale * n_positions)
        if diag:
            return torch.exp(-((x1 != x2).to(weights.dtype) * weights).sum(-1))
        shared = _shared_across_batch(x1, x2) if weights.dim() == 2 else None
        if shared is not None:
            flat = _distance(x1.reshape(-1, n_positions), shared, weights)
            return torch.exp(-flat.reshape(*x1.shape[:-1], shared.shape[0]))
        return torch.exp(-_distance(x1, x2, weights))


def _distance(x1: torch.Tensor, x2: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_j weights_j [x1_j != x2_j] for every pair of rows, one position at a time."""
    return sum(
        (x1[..., :, None, j] != x2[..., None, :, j]) * weights[..., j, None]
        for j in range(x1.shape[-1])
    )


def _shared_across_batch(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor | None:
    """x2's one (n, d) matrix when every batch holds the same one, else None.

    Log EI evaluates candidates as a (b, 1, d) batch, and gpytorch's posterior pairs each
    with its own copy of the training grids, (b, n, d). Comparing the b candidates with one
    small copy reads it from cache; comparing each with its own copy reads all b copies,
    strided, once per position (about 4x slower at b = 2,048, n = 400, d = 64).
    """
    if x2.dim() < 3 or x1.shape[:-2] != x2.shape[:-2]:
        return None
    first = x2.reshape(-1, *x2.shape[-2:])[0]
    return first if torch.equal(x2, first.expand_as(x2)) else None


def categorical_gp(
    train_x: torch.Tensor, train_y: torch.Tensor, kernel_class: type = HammingKernel
) -> SingleTaskGP:
    """The unfitted GP: a scaled ARD categorical kernel on (n, d) grids, standardised (n, 1) y."""
    kernel = ScaleKernel(kernel_class(ard_num_dims=train_x.shape[1]))
    return SingleTaskGP(train_x, train_y, covar_module=kernel, outcome_transform=Standardize(m=1))


class CategoricalGPSurrogate:
    """An exact GP on (n, d) code grids; fit once per proposal (n is the n_best + n_random)."""

    def __init__(self, seed: int = 0, device: object = None) -> None:
        del device  # fitted on the CPU in float64 (the grids are small); taken for uniformity
        self.seed = seed
        self._model: SingleTaskGP | None = None
        self._acquisition: LogExpectedImprovement | None = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> CategoricalGPSurrogate:
        torch.manual_seed(self.seed)
        train_x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
        train_y = torch.as_tensor(np.asarray(y), dtype=torch.float64)[:, None]
        self._model = categorical_gp(train_x, train_y)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(self._model.likelihood, self._model))
        self._acquisition = LogExpectedImprovement(self._model, best_f=train_y.max())
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of the score (n,), (n,)."""
        assert self._model is not None, "fit first"
        means, variances = [], []
        with torch.no_grad():
            for part in torch.as_tensor(np.asarray(x), dtype=torch.float64).split(EVAL_CHUNK):
                posterior = self._model.posterior(part)
                means.append(posterior.mean.squeeze(-1))
                variances.append(posterior.variance.squeeze(-1))
        return torch.cat(means).numpy(), torch.cat(variances).numpy()

    def acquisition(self, x: np.ndarray) -> np.ndarray:
        """log EI of each grid (n,)."""
        assert self._acquisition is not None, "fit first"
        with torch.no_grad():
            parts = [
                self._acquisition(part[:, None, :])
                for part in torch.as_tensor(np.asarray(x), dtype=torch.float64).split(EVAL_CHUNK)
            ]
        return torch.cat(parts).numpy()
