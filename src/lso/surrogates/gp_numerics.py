"""The GP surrogate's numerics: cached posterior factors, L-BFGS with failure detection, and
the few linear-algebra pieces written out for speed (:mod:`lso.surrogates.gp`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from gpytorch.distributions import MultivariateNormal
from gpytorch.kernels import Kernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.means import ConstantMean
from gpytorch.models import ExactGP
from linear_operator.utils.errors import NanError, NotPSDError
from torch.linalg import solve_triangular


class NonFinite(RuntimeError):
    """The objective or the fitted hyperparameters became NaN or infinite."""


NUMERICAL_ERRORS = (NotPSDError, NanError, torch.linalg.LinAlgError, NonFinite)


@dataclass(frozen=True)
class Attempt:
    """One rung of the robustness ladder: Cholesky jitter, noise floor, optimiser budget."""

    jitter: float
    noise_floor: float
    fit_hyperparameters: bool


@dataclass
class Predictor:
    """Cached posterior: mean c + k(x, U) a, covariance k(x, x') - (A k)ᵀ(A k') + (B k)ᵀ(B k').

    Exact: U = the training inputs, A = L⁻¹ with L Lᵀ = K + σ²I, no B. Sparse: U = the
    inducing points, A = L⁻¹ with L Lᵀ = K_uu, B = L_B⁻¹ L⁻¹. Keeping the two square-root
    terms (rather than one matrix A ᵀA - BᵀB) keeps small variances, and so EI's gradients
    where the GP is confident, accurate.
    """

    anchors: torch.Tensor
    weights: torch.Tensor
    minus: torch.Tensor
    plus: torch.Tensor | None


class ExactModel(ExactGP):
    """The exact GP used for fitting hyperparameters; it shares the surrogate's modules."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        mean: ConstantMean,
        kernel: Kernel,
        likelihood: GaussianLikelihood,
    ) -> None:
        super().__init__(x, y, likelihood)
        self.mean_module = mean
        self.covar_module = kernel

    def forward(self, x: torch.Tensor) -> MultivariateNormal:
        return MultivariateNormal(self.mean_module(x), self.covar_module(x))


def minimise(
    loss_fn: Callable[[], torch.Tensor], parameters: list[torch.nn.Parameter], max_iter: int
) -> int:
    """Run L-BFGS (strong Wolfe line search) for at most ``max_iter`` iterations.

    Returns the number of iterations taken; a non-finite loss raises ``NonFinite`` so that
    the caller can retry with more jitter instead of continuing from NaN parameters.
    """
    if max_iter == 0:
        return 0
    optimizer = torch.optim.LBFGS(
        parameters,
        lr=1.0,
        max_iter=max_iter,
        max_eval=int(max_iter * 1.5) + 1,
        tolerance_grad=1e-4,
        tolerance_change=1e-5,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_fn()
        if not torch.isfinite(loss):
            raise NonFinite(f"the GP objective is {float(loss)}")
        loss.backward()
        return loss

    optimizer.step(closure)
    return int(optimizer.state[parameters[0]].get("n_iter", 0))


class Gram(torch.autograd.Function):
    """K Kᵀ whose backward is the single product (G + Gᵀ) K.

    Autograd would treat K and Kᵀ as two inputs and spend two m x m x n products on the
    gradient; this is the costliest step of the collapsed bound.
    """

    @staticmethod
    def forward(ctx: Any, k: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(k)
        return k @ k.mT

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (k,) = ctx.saved_tensors
        return (grad + grad.mT) @ k


def whiten(chol: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """L⁻¹ A L⁻ᵀ for a symmetric A and lower-triangular L."""
    half = solve_triangular(chol, matrix, upper=False)
    return solve_triangular(chol, half.mT, upper=False)


def triangular_inverse(chol: torch.Tensor) -> torch.Tensor:
    eye = torch.eye(len(chol), dtype=chol.dtype, device=chol.device)
    return solve_triangular(chol, eye, upper=False)
