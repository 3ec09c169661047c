"""The trust-region optimiser's Gaussian processes, from BoTorch and gpytorch.

* Few points: BoTorch's ``SingleTaskGP`` with the TuRBO tutorial's kernel (a scaled ARD
  Matérn-5/2, lengthscales in [``lengthscale_min``, ``lengthscale_max``], noise in
  [``noise_min``, ``noise_max``]), fitted each round by ``fit_gpytorch_mll``, starting from
  the previous round's hyperparameters.
* Many points, or LOL-BO's joint update: an approximate GP, BoTorch's
  ``SingleTaskVariationalGP`` (a gpytorch ``ApproximateGP`` with a ``VariationalStrategy``
  whose inducing points are learned), trained by Adam on minibatches of the predictive log
  likelihood (``PredictiveLogLikelihood``), as LOL-BO trains its PPGPR. It persists over the
  run: LOL-BO trains it on every new batch for a few epochs instead of refitting, and its
  parameters are what the joint update fine-tunes with the generative model.

Both take inputs in the unit cube of the search space and standardised scores; the caller
keeps the scaling. Everything is float64 on the caller's device.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP, SingleTaskVariationalGP
from gpytorch.constraints import Interval
from gpytorch.kernels import MaternKernel, ScaleKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.mlls import ExactMarginalLogLikelihood, PredictiveLogLikelihood


@dataclass(frozen=True)
class KernelBounds:
    """The tutorial's bounds on the ARD lengthscales (unit-cube units) and the noise variance
    (standardised units)."""

    lengthscale_min: float
    lengthscale_max: float
    noise_min: float
    noise_max: float


def matern_kernel(dim: int, bounds: KernelBounds) -> ScaleKernel:
    """A scaled ARD Matérn-5/2 kernel with bounded lengthscales."""
    interval = Interval(bounds.lengthscale_min, bounds.lengthscale_max)
    return ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=dim, lengthscale_constraint=interval))


def gaussian_likelihood(bounds: KernelBounds) -> GaussianLikelihood:
    return GaussianLikelihood(noise_constraint=Interval(bounds.noise_min, bounds.noise_max))


def lengthscales(model: SingleTaskGP | SingleTaskVariationalGP) -> torch.Tensor:
    """The ARD lengthscales (d,) of either GP: what the trust region's box is scaled by."""
    gp = model.model if isinstance(model, SingleTaskVariationalGP) else model
    return gp.covar_module.base_kernel.lengthscale.detach().reshape(-1)


def fit_exact_gp(
    x: torch.Tensor,
    y: torch.Tensor,
    bounds: KernelBounds,
    start: dict[str, torch.Tensor] | None = None,
) -> SingleTaskGP:
    """``SingleTaskGP`` on unit-cube inputs ``x`` (n, d) and standardised scores ``y`` (n,),
    its hyperparameters fitted by L-BFGS on the exact marginal likelihood.

    ``start`` is an earlier fit's :func:`hyperparameters`. The tutorial fits from the
    defaults every round, which takes ~90 L-BFGS steps on 535 points in 16-D (about 4 s on a
    busy CPU core); from the previous round's optimum, with five points more, a few steps.
    """
    model = SingleTaskGP(
        x,
        y.reshape(-1, 1),
        covar_module=matern_kernel(x.shape[-1], bounds).to(x),
        likelihood=gaussian_likelihood(bounds).to(x),
        outcome_transform=None,
    )
    if start:
        model.load_state_dict({k: v.to(x) for k, v in start.items()})
    with warnings.catch_warnings():
        # inputs of encoded data may lie outside the unit cube of the search box; that is
        # expected here, not a forgotten normalisation
        warnings.filterwarnings("ignore", message=r".*not contained to the unit cube.*")
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model.eval()


def hyperparameters(model: SingleTaskGP) -> dict[str, torch.Tensor]:
    """The fitted GP's parameters and constraint bounds (CPU copies), to start the next fit."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


class ApproximateGP:
    """An SVGP with learned inducing points, trained on the predictive log likelihood.

    ``n_inducing`` inducing points start where BoTorch's greedy variance reduction puts them
    among the first training inputs (at most as many as there are points) and then move with
    training. ``state`` restores a saved one exactly (:meth:`state`).
    """

    def __init__(
        self,
        x: torch.Tensor,
        n_inducing: int,
        bounds: KernelBounds,
        state: dict[str, Any] | None = None,
    ) -> None:
        inducing: torch.Tensor | int = min(n_inducing, len(x))
        if state is not None:
            inducing = state["inducing_points"].to(x)
        self.model = SingleTaskVariationalGP(
            x,
            likelihood=gaussian_likelihood(bounds).to(x),
            covar_module=matern_kernel(x.shape[-1], bounds).to(x),
            inducing_points=inducing,
            learn_inducing_points=True,
        ).to(x)
        if state is not None:
            self.model.load_state_dict(state["parameters"], keep_transforms=False)
        self.model.eval()

    def parameters(self) -> list[torch.nn.Parameter]:
        return list(self.model.parameters())

    def loss(self, x: torch.Tensor, y: torch.Tensor, num_data: int) -> torch.Tensor:
        """Negative predictive log likelihood of ``y`` at ``x`` per point, for a training set
        of ``num_data`` points (the KL term is weighted by 1/num_data)."""
        mll = PredictiveLogLikelihood(self.model.likelihood, self.model.model, num_data=num_data)
        return -mll(self.model.model(x), y)

    def train(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        epochs: int,
        batch_size: int,
        lr: float,
        max_grad_norm: float,
        generator: torch.Generator,
    ) -> None:
        """Adam on shuffled minibatches of (x, y) for ``epochs`` passes, gradients clipped to
        norm ``max_grad_norm`` (LOL-BO's surrogate update)."""
        self.model.train()
        optimiser = torch.optim.Adam(self.parameters(), lr=lr)
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator).to(x.device)
            for batch in order.split(batch_size):
                optimiser.zero_grad()
                loss = self.loss(x[batch], y[batch], num_data=len(x))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.parameters(), max_norm=max_grad_norm)
                optimiser.step()
        self.model.eval()

    def state(self) -> dict[str, Any]:
        """Its inducing points and every parameter (CPU tensors), for the resume state."""
        strategy = self.model.model.variational_strategy
        return {
            "inducing_points": strategy.inducing_points.detach().cpu().clone(),
            "parameters": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
        }
