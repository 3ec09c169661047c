"""DNGO: a neural network's last hidden layer as the basis of a Bayesian linear regression.

Snoek et al.'s (2015) scalable alternative to a GP: an MLP (d → 50 → 50 → 50, tanh → 1) is
trained on the data by least squares, and a Bayesian linear regression on its 50 last-layer
features (plus a bias) gives the predictive uncertainty. Its cost is linear in n, so it suits
data sets too large even for a sparse GP.

Two defects of the thesis's DNGO are fixed: the evidence used the (non-squared) residual
norm, so α and β maximised the wrong function; and some rows were left with zero predictive
mean and variance. Here the evidence is the correct log marginal likelihood and every row
gets its own prediction.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize
from torch import nn
from torch.linalg import solve_triangular

from lso.surrogates.base import Surrogate

HIDDEN = (50, 50, 50)
LOG_PRECISION_BOUNDS = (-10.0, 15.0)  # for log α and log β, on standardised targets


class _Network(nn.Module):
    """The feature extractor (three tanh layers) and a linear read-out for training it."""

    def __init__(self, d: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for width_in, width_out in zip((d, *HIDDEN[:-1]), HIDDEN, strict=True):
            layers += [nn.Linear(width_in, width_out), nn.Tanh()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(HIDDEN[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(-1)


class DNGOSurrogate(Surrogate):
    """MLP features with a Bayesian linear regression head whose α, β maximise the evidence."""

    def __init__(
        self,
        *,
        epochs: int = 100,
        lr: float = 1e-3,
        batch_size: int = 128,
        normalize_inputs: bool = True,
        device: torch.device | str | None = None,
        predict_batch_size: int = 4096,
        seed: int = 0,
    ) -> None:
        super().__init__(
            normalize_inputs=normalize_inputs,
            device=device,
            predict_batch_size=predict_batch_size,
            seed=seed,
        )
        self.epochs = int(epochs)
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.network: _Network | None = None
        self.alpha = 1.0
        self.beta = 1.0
        self._weights: torch.Tensor | None = None  # posterior mean of the read-out (D,)
        self._inv_chol: torch.Tensor | None = None  # L⁻¹ with L Lᵀ = α I + β ΦᵀΦ

    def get_warm_state(self) -> dict[str, Any]:
        """The trained network's weights: the next fit fine-tunes them instead of starting over."""
        if self.network is None:
            return {}
        return {k: v.detach().to("cpu").clone() for k, v in self.network.state_dict().items()}

    def _fit_standardised(
        self, x: torch.Tensor, y: torch.Tensor, warm_start: dict[str, Any]
    ) -> None:
        generator = torch.Generator().manual_seed(self.seed)
        self.network = self._initial_network(x.shape[1], warm_start, generator)
        self._train_network(x, y, generator)
        with torch.no_grad():
            phi = self._features(x)
        self.alpha, self.beta = _maximise_evidence(phi, y)
        eye = torch.eye(phi.shape[1], dtype=phi.dtype, device=phi.device)
        chol = torch.linalg.cholesky(self.alpha * eye + self.beta * phi.mT @ phi)
        self._inv_chol = solve_triangular(chol, eye, upper=False)
        self._weights = self.beta * self._inv_chol.mT @ (self._inv_chol @ (phi.mT @ y))

    def _initial_network(
        self, d: int, warm_start: dict[str, Any], generator: torch.Generator
    ) -> _Network:
        """A network seeded from ``generator`` (never the global RNG), or the warm weights."""
        network = _Network(d).double()
        if warm_start:  # the previous network, trained on this latent dimension
            network.load_state_dict(warm_start)
        else:
            for layer in network.modules():
                if isinstance(layer, nn.Linear):
                    bound = 1.0 / math.sqrt(layer.in_features)
                    nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
                    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        return network.to(self.device)

    def _train_network(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> None:
        assert self.network is not None
        optimiser = torch.optim.Adam(self.network.parameters(), lr=self.lr)
        self.network.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(x), generator=generator).to(self.device)
            for batch in order.split(self.batch_size):
                optimiser.zero_grad()
                loss = (self.network(x[batch]) - y[batch]).pow(2).mean()
                loss.backward()
                optimiser.step()
        self.network.eval().requires_grad_(False)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        """Last-hidden-layer activations plus a constant column: the regression's basis."""
        assert self.network is not None
        hidden = self.network.features(x)
        return torch.cat([hidden, torch.ones_like(hidden[..., :1])], dim=-1)

    def _predict_standardised(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assert self._weights is not None and self._inv_chol is not None
        phi = self._features(x)
        return phi @ self._weights, (phi @ self._inv_chol.mT).pow(2).sum(-1)

    def _joint_standardised(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assert self._weights is not None and self._inv_chol is not None
        phi = self._features(x)
        root = phi @ self._inv_chol.mT
        return phi @ self._weights, root @ root.mT

    def _noise_standardised(self) -> float:
        return 1.0 / self.beta


def _maximise_evidence(phi: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """α (weight precision) and β (noise precision) maximising log p(y | α, β).

    Bishop (2006, eq. 3.86) with the squared residual norm, optimised over log α and log β
    by L-BFGS-B with autograd gradients; the bounds keep the precisions finite when the data
    are singular (constant targets, duplicated rows).
    """
    with torch.no_grad():
        gram, projection = phi.mT @ phi, phi.mT @ y
    n, width = phi.shape
    eye = torch.eye(width, dtype=phi.dtype, device=phi.device)

    def negative_evidence(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = torch.tensor(log_params, dtype=phi.dtype, device=phi.device, requires_grad=True)
        alpha, beta = params.exp()
        chol = torch.linalg.cholesky(alpha * eye + beta * gram)
        mean = beta * torch.cholesky_solve(projection[:, None], chol)[:, 0]
        residual = (y - phi.detach() @ mean).pow(2).sum()
        evidence = (
            0.5 * width * params[0]
            + 0.5 * n * params[1]
            - 0.5 * beta * residual
            - 0.5 * alpha * mean @ mean
            - chol.diagonal().log().sum()
            - 0.5 * n * math.log(2 * math.pi)
        )
        (-evidence).backward()
        return -evidence.item(), params.grad.cpu().numpy()

    result = minimize(
        negative_evidence,
        x0=np.array([0.0, math.log(10.0)]),
        jac=True,
        method="L-BFGS-B",
        bounds=[LOG_PRECISION_BOUNDS] * 2,
    )
    log_alpha, log_beta = result.x
    return float(np.exp(log_alpha)), float(np.exp(log_beta))
