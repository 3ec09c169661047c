"""Bayesian optimisation of a conditional-generation objective over a box in latent space.

A BoTorch port of the blog's GPyOpt set-up: 2 uniform initial points, then 50 iterations
that each fit a GP to every evaluation so far and evaluate the maximiser of expected
improvement (q = 1). Where it differs from GPyOpt's ``BayesianOptimization``:

* Surrogate: BoTorch's default ``SingleTaskGP`` (an ARD RBF kernel with a dimension-scaled
  log-normal length-scale prior, no output scale, Gaussian noise learned as with GPyOpt's
  ``exact_feval=False``) on inputs mapped from [-b, b]² to [0, 1]², with outputs
  standardised (GPyOpt's ``normalize_Y``, though with the ddof=1 standard deviation).
  GPyOpt's default is a GPy Matérn-5/2 kernel with a variance and no priors. Both refit
  the GP every iteration; we start each fit afresh, GPyOpt from the last hyperparameters.
* Acquisition: analytic ``LogExpectedImprovement`` on -f. BoTorch has no EI jitter, so
  ``xi`` is added to the incumbent in standardised units, which is what GPyOpt's
  ``acquisition_jitter=0.01`` does. But GPyOpt's incumbent is the lowest *posterior mean*
  at the evaluated points and its predictive deviation includes the noise; ours are the
  best observed value and the noise-free deviation, so the two are close, not equal.
* Acquisition optimiser: ``optimize_acqf`` (L-BFGS-B from the best of ``raw_samples``
  quasi-random points, ``num_restarts`` starts) instead of GPyOpt's L-BFGS from a
  random-sampling anchor set.

``acquisition="random"`` evaluates uniform random points instead, the baseline that shows
what the model buys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Normalize, Standardize
from botorch.optim import optimize_acqf
from gpytorch.mlls import ExactMarginalLogLikelihood

from lso.condgen.objective import ObjectiveFn
from lso.runtime import single_threaded
from lso.utils import InputError

ACQUISITIONS = ("ei", "random")
TOP_K = 10  # best evaluations a run keeps, with their decoded images


@dataclass(frozen=True)
class BOResult:
    """Every evaluation in order (initial points first) and the GP fitted to all of them.

    ``model`` models -f (BoTorch maximises), in original units; ``xi`` is the jitter the
    run used, kept so that the acquisition can be redrawn for plots.
    """

    t: torch.Tensor
    values: torch.Tensor
    model: SingleTaskGP
    bounds: float
    xi: float

    @property
    def best_index(self) -> int:
        """Index of the lowest objective value (the first, if tied)."""
        return int(torch.argmin(self.values))


def run_bo(
    objective_fn: ObjectiveFn,
    *,
    seed: int,
    bounds: float = 4.0,
    dim: int = 2,
    n_initial: int = 2,
    n_iterations: int = 50,
    acquisition: str = "ei",
    xi: float = 0.01,
    num_restarts: int = 10,
    raw_samples: int = 512,
    device: torch.device | str = "cpu",
) -> BOResult:
    """Minimise ``objective_fn`` (points (n, dim) -> values (n,)) over [-bounds, bounds]^dim.

    The same ``seed`` gives the same initial points and, on CPU, the same run; the caller's
    global random state is left as it was.
    """
    _check_settings(bounds, n_initial, n_iterations, acquisition, xi)
    box = _box(bounds, dim, device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        t = _uniform(n_initial, box, generator)
        values = _evaluate(objective_fn, t)
        for iteration in range(n_iterations):
            if acquisition == "random":
                candidate = _uniform(1, box, generator)
            else:
                model = fit_gp(t, values, bounds)
                candidate = _maximise_ei(
                    model, values, box, xi, seed + iteration, num_restarts, raw_samples
                )
            t = torch.cat([t, candidate])
            values = torch.cat([values, _evaluate(objective_fn, candidate)])
        model = fit_gp(t, values, bounds)
    return BOResult(t=t, values=values, model=model, bounds=float(bounds), xi=xi)


def fit_gp(t: torch.Tensor, values: torch.Tensor, bounds: float) -> SingleTaskGP:
    """A GP of -f, inputs scaled from [-bounds, bounds]^d to the unit cube, outputs standardised.

    GP fits and EI maximisation run on one thread (a few dozen points); the objective, which
    decodes and classifies images, keeps every thread.
    """
    box = _box(bounds, t.shape[1], t.device)
    model = SingleTaskGP(
        t,
        -values.unsqueeze(1),
        input_transform=Normalize(d=t.shape[1], bounds=box),
        outcome_transform=Standardize(m=1),
    )
    with single_threaded():
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model


def expected_improvement(
    model: SingleTaskGP, values: torch.Tensor, xi: float
) -> LogExpectedImprovement:
    """Log EI on -f against the best observed value raised by ``xi`` standard deviations."""
    y = -values
    spread = y.std() if len(y) > 1 else torch.zeros((), dtype=y.dtype, device=y.device)
    return LogExpectedImprovement(model, best_f=y.max() + xi * spread)


@torch.no_grad()
def gp_landscape(result: BOResult, grid_len: int = 81) -> dict[str, torch.Tensor]:
    """GP posterior mean and standard deviation of f, and log EI, on a grid over the box.

    Each map is (grid_len, grid_len) with ``[i, j]`` at ``(axis[i], axis[j])``; the
    deviation is that of the latent function, without observation noise.
    """
    if result.t.shape[1] != 2:
        raise InputError(f"gp_landscape needs a 2-D search space, got {result.t.shape[1]}-D")
    axis = torch.linspace(
        -result.bounds, result.bounds, grid_len, dtype=result.t.dtype, device=result.t.device
    )
    grid = torch.cartesian_prod(axis, axis)
    posterior = result.model.posterior(grid)
    log_ei = expected_improvement(result.model, result.values, result.xi)(grid.unsqueeze(1))
    shape = (grid_len, grid_len)
    return {
        "axis": axis,
        "mean": -posterior.mean.reshape(shape),
        "std": posterior.variance.clamp_min(0.0).sqrt().reshape(shape),
        "log_ei": log_ei.reshape(shape),
    }


def top_evaluations(result: BOResult, k: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` evaluated points with the lowest objective, best first, and their values."""
    order = torch.argsort(result.values, stable=True)[:k]
    return result.t[order], result.values[order]


def summarise_condgen(
    values: np.ndarray, p_target: np.ndarray, target: int, probability: float
) -> dict[str, Any]:
    """How well a run found ``target`` digits, from its saved evaluations.

    ``values`` are the objective values in evaluation order (initial points first) and
    ``p_target`` the classifier's p(target) of each evaluated point's decoded image.
    ``evaluations_to_threshold`` counts evaluations up to the first with p(target) >=
    ``probability``; None if none reached it.
    """
    reached = np.flatnonzero(np.asarray(p_target) >= probability)
    best = int(np.argmin(values))
    return {
        "target": int(target),
        "evaluations": len(values),
        "best_objective": float(values[best]),
        "best_probability": float(p_target[best]),
        "probability_threshold": float(probability),
        "evaluations_to_threshold": int(reached[0]) + 1 if len(reached) else None,
    }


def _maximise_ei(
    model: SingleTaskGP,
    values: torch.Tensor,
    box: torch.Tensor,
    xi: float,
    seed: int,
    num_restarts: int,
    raw_samples: int,
) -> torch.Tensor:
    with single_threaded():
        candidate, _ = optimize_acqf(
            expected_improvement(model, values, xi),
            bounds=box,
            q=1,
            num_restarts=num_restarts,
            raw_samples=raw_samples,
            options={"seed": seed},
        )
    return candidate.detach()


def _evaluate(objective_fn: ObjectiveFn, t: torch.Tensor) -> torch.Tensor:
    """Objective values as float64 on ``t``'s device; a non-finite value would break the GP."""
    values = torch.as_tensor(objective_fn(t)).to(device=t.device, dtype=torch.float64)
    if values.shape != (len(t),) or not torch.isfinite(values).all():
        raise InputError(
            f"objective_fn must return {len(t)} finite values for points {t.tolist()}, got "
            f"{values.tolist()}"
        )
    return values


def _uniform(n: int, box: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``n`` points uniform in ``box``, drawn on the CPU: a seed gives the same points anywhere."""
    unit = torch.rand(n, box.shape[1], generator=generator, dtype=torch.float64)
    return box[0] + unit.to(box.device) * (box[1] - box[0])


def _box(bounds: float, dim: int, device: torch.device | str) -> torch.Tensor:
    return torch.tensor([[-bounds] * dim, [bounds] * dim], dtype=torch.float64, device=device)


def _check_settings(
    bounds: float, n_initial: int, n_iterations: int, acquisition: str, xi: float
) -> None:
    if acquisition not in ACQUISITIONS:
        raise InputError(f"acquisition must be one of {list(ACQUISITIONS)}, got {acquisition!r}")
    if bounds <= 0 or n_initial < 1 or n_iterations < 0 or xi < 0:
        raise InputError(
            f"need bounds > 0, n_initial >= 1, n_iterations >= 0 and xi >= 0; got bounds="
            f"{bounds}, n_initial={n_initial}, n_iterations={n_iterations}, xi={xi}"
        )
