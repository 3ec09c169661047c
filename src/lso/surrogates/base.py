"""What every surrogate of the score offers: fit, batched prediction, and a BoTorch posterior.

A surrogate maps latent points to a Gaussian belief about their score. Making it a BoTorch
``Model`` lets BoTorch's acquisition functions (EI, LogEI, qLogEI) run on any of them. Each
surrogate works in float64 on standardised targets (and, optionally, normalised inputs)
internally, and reports everything in the original units, so callers never see the scaling.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Self

import numpy as np
import torch
from botorch.models.model import Model
from botorch.posteriors import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal

from lso.utils import InputError

# Smallest latent variance reported (standardised units): a zero variance would make EI's
# gradient vanish and a log-likelihood infinite.
MIN_VARIANCE = 1e-10


class Surrogate(Model, ABC):
    """A regression model of the score that BoTorch's acquisition functions accept.

    Subclasses implement the ``_standardised`` methods on normalised inputs and standardised
    targets; this class does the scaling, batching and the BoTorch plumbing.
    """

    def __init__(
        self,
        *,
        normalize_inputs: bool,
        device: torch.device | str | None = None,
        predict_batch_size: int = 4096,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.normalize_inputs = bool(normalize_inputs)
        self.device = torch.device(device if device is not None else "cpu")
        self.predict_batch_size = int(predict_batch_size)
        self.seed = int(seed)
        self._x_shift: torch.Tensor | None = None
        self._x_scale: torch.Tensor | None = None
        self._y_mean = 0.0
        self._y_std = 1.0

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    @property
    def is_fitted(self) -> bool:
        return self._x_shift is not None

    def fit(
        self,
        X: torch.Tensor | np.ndarray,
        y: torch.Tensor | np.ndarray,
        warm_start: dict[str, Any] | None = None,
    ) -> Self:
        """Fit to inputs ``X`` (n, d) and scores ``y`` (n,); returns ``self`` for chaining.

        ``warm_start`` is an earlier fit's :meth:`get_warm_state`: starting from it makes a
        refit on slightly changed data (the next loop iteration) converge in a few steps.
        """
        x, targets = self._training_tensors(X, y)
        self._set_scaling(x, targets)
        standardised = (targets - self._y_mean) / self._y_std
        self._fit_standardised(self._scale_inputs(x), standardised, warm_start or {})
        return self

    @torch.no_grad()
    def predict(self, X: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictive mean and latent-function variance (no noise) of every row of ``X``.

        Rows are processed ``predict_batch_size`` at a time so that 100k candidates need no
        more memory than a few thousand.
        """
        x = self._inputs(X)
        means, variances = [], []
        for part in x.split(self.predict_batch_size):
            mean, var = self._predict_standardised(self._scale_inputs(part))
            means.append(mean)
            variances.append(var.clamp_min(MIN_VARIANCE))
        mean = torch.cat(means) if means else x.new_zeros(0)
        var = torch.cat(variances) if variances else x.new_zeros(0)
        return mean * self._y_std + self._y_mean, var * self._y_std**2

    @property
    def noise_variance(self) -> float:
        """Observation-noise variance in the units of the scores."""
        return self._noise_standardised() * self._y_std**2

    def posterior(
        self,
        X: torch.Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | torch.Tensor = False,
        posterior_transform: Any = None,
        **kwargs: Any,
    ) -> GPyTorchPosterior:
        """Joint Gaussian posterior over the ``q`` points of each batch of ``X`` (... x q x d).

        Differentiable in ``X``, so acquisition optimisers get exact gradients.
        """
        if output_indices not in (None, [0]):
            raise ValueError(f"a surrogate has one output; got output_indices={output_indices}")
        x = self._scale_inputs(X.to(self.device, torch.float64))
        batch_shape, q, d = x.shape[:-2], x.shape[-2], x.shape[-1]
        flat = x.reshape(-1, q, d)
        rows_per_chunk = max(1, self.predict_batch_size // q)
        parts = [self._joint_standardised(part) for part in flat.split(rows_per_chunk)]
        mean = torch.cat([p[0] for p in parts]).reshape(*batch_shape, q)
        cov = torch.cat([p[1] for p in parts]).reshape(*batch_shape, q, q)
        eye = torch.eye(q, dtype=cov.dtype, device=cov.device)
        cov = cov + MIN_VARIANCE * eye
        if observation_noise is True:
            cov = cov + self._noise_standardised() * eye
        elif isinstance(observation_noise, torch.Tensor):
            raise ValueError("surrogates infer their noise; pass observation_noise as a bool")
        mvn = MultivariateNormal(mean * self._y_std + self._y_mean, cov * self._y_std**2)
        posterior = GPyTorchPosterior(mvn)
        return posterior if posterior_transform is None else posterior_transform(posterior)

    def get_warm_state(self) -> dict[str, Any]:
        """State (tensors and floats only) from which a later ``fit`` can start."""
        return {}

    # -- subclass interface ----------------------------------------------------------------

    @abstractmethod
    def _fit_standardised(
        self, x: torch.Tensor, y: torch.Tensor, warm_start: dict[str, Any]
    ) -> None:
        """Fit to normalised inputs and standardised targets (``warm_start`` may be empty)."""

    @abstractmethod
    def _predict_standardised(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Marginal mean and latent variance of (n, d) normalised inputs."""

    @abstractmethod
    def _joint_standardised(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean (b, q) and latent covariance (b, q, q) of (b, q, d) normalised inputs."""

    @abstractmethod
    def _noise_standardised(self) -> float:
        """Noise variance in standardised units."""

    # -- scaling -----------------------------------------------------------------------------

    def _inputs(self, X: torch.Tensor | np.ndarray) -> torch.Tensor:
        if not self.is_fitted:
            raise RuntimeError("the surrogate must be fitted before it can predict")
        return torch.as_tensor(X).to(self.device, torch.float64)

    def _training_tensors(
        self, X: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.as_tensor(X).to(self.device, torch.float64)
        targets = torch.as_tensor(y).to(self.device, torch.float64).reshape(-1)
        if x.ndim != 2 or len(x) != len(targets) or len(x) == 0:
            raise InputError(
                f"surrogate training data must be X (n, d) and y (n,) with n >= 1; "
                f"got X {tuple(x.shape)} and y {tuple(targets.shape)}"
            )
        if not (torch.isfinite(x).all() and torch.isfinite(targets).all()):
            raise InputError("surrogate training data contain NaN or infinite values")
        return x, targets

    def _set_scaling(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Standardise y always (the priors assume unit scale); normalise X on request.

        Constant columns and constant targets keep a unit scale, so singular data stay finite.
        """
        self._y_mean = float(y.mean())
        y_std = float(y.std()) if len(y) > 1 else 0.0
        self._y_std = y_std if y_std > 1e-12 * max(1.0, abs(self._y_mean)) else 1.0
        d = x.shape[1]
        if self.normalize_inputs:
            scale = x.std(0) if len(x) > 1 else torch.ones(d, dtype=x.dtype, device=x.device)
            self._x_shift = x.mean(0)
            self._x_scale = torch.where(scale > 1e-12, scale, torch.ones_like(scale))
        else:
            self._x_shift = torch.zeros(d, dtype=x.dtype, device=x.device)
            self._x_scale = torch.ones(d, dtype=x.dtype, device=x.device)

    def _scale_inputs(self, x: torch.Tensor) -> torch.Tensor:
        assert self._x_shift is not None and self._x_scale is not None
        return (x - self._x_shift) / self._x_scale

    def _unscale_inputs(self, x: torch.Tensor) -> torch.Tensor:
        assert self._x_shift is not None and self._x_scale is not None
        return x * self._x_scale + self._x_shift
