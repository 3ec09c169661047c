"""The thesis's optimiser (``optimizer.type: local``): multi-start SLSQP on the acquisition.

From the best random candidates by acquisition value, SLSQP climbs the acquisition with
autograd gradients, under the density constraint ``log p(z) >= threshold`` (with its own
gradient) when there is one, or inside the box ±``bounds`` when there is not. With
``batch: true`` all ``n`` points are chosen jointly by qLogEI instead
(:meth:`MultiStartOptimizer._joint_batch`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.exceptions.errors import CandidateGenerationError
from botorch.optim import optimize_acqf
from scipy.optimize import minimize

from lso.constraints.base import Constraint
from lso.optimizers.acquisition import make_batch_acquisition
from lso.optimizers.base import SearchContext, log_density_of
from lso.optimizers.bayesopt import BayesOptimizer, SurrogateFit, evaluate_acquisition

# SLSQP may end a hair outside an active constraint; it is given a constraint this much
# tighter (in log-density units) so that its solutions pass the exact re-check.
CONSTRAINT_MARGIN = 1e-3


class MultiStartOptimizer(BayesOptimizer):
    """The thesis's optimiser: multi-start SLSQP on EI under the density constraint.

    Without a constraint SLSQP is confined to the box ±``bounds``; with one there is no box
    (as in the thesis): the density keeps the search near the data.
    """

    def _ranked_pool(
        self, fit: SurrogateFit, candidates: np.ndarray, n: int, context: SearchContext
    ) -> np.ndarray:
        values = evaluate_acquisition(fit.acquisition, candidates, context.device)
        ranked = candidates[np.argsort(-values, kind="stable")]
        if len(ranked) == 0:
            return ranked
        if self.settings.batch:
            found = self._joint_batch(fit, ranked, n, context)
        else:
            starts = ranked[: self.settings.n_starts]
            found = np.stack([self._local_search(fit.acquisition, z, context) for z in starts])
            found_values = evaluate_acquisition(fit.acquisition, found, context.device)
            found = found[np.argsort(-found_values, kind="stable")]
        return np.concatenate([found, ranked])

    def _local_search(
        self, acquisition: AcquisitionFunction, start: np.ndarray, context: SearchContext
    ) -> np.ndarray:
        """SLSQP from ``start`` on -acquisition; the start point if the result is unusable.

        A result is used if SLSQP converged or ran out of iterations, is finite, and satisfies
        the constraint exactly; the start point always does (it was a valid candidate).
        """
        objective = negated_acquisition(acquisition, context.device)
        kwargs: dict[str, Any] = {
            "bounds": [(-self.settings.bounds, self.settings.bounds)] * len(start)
        }
        if context.constraint is not None:
            fun, jac = density_constraint_functions(
                context.constraint, context.device, margin=CONSTRAINT_MARGIN
            )
            kwargs = {"constraints": [{"type": "ineq", "fun": fun, "jac": jac}]}
        options = {"maxiter": self.settings.maxiter}
        result = minimize(
            objective, start, jac=True, method=self.settings.method, options=options, **kwargs
        )
        usable = (result.success or result.nit >= self.settings.maxiter) and np.all(
            np.isfinite(result.x)
        )
        if usable and context.constraint is not None:
            density = log_density_of(context.constraint, result.x[None], context.device)[0]
            usable = bool(density >= context.constraint.threshold)
        return result.x if usable else start

    def _joint_batch(
        self, fit: SurrogateFit, ranked: np.ndarray, n: int, context: SearchContext
    ) -> np.ndarray:
        """``n`` points chosen jointly by qLogEI with BoTorch's ``optimize_acqf``.

        The density constraint (tightened by ``CONSTRAINT_MARGIN``) is passed to SLSQP as a
        nonlinear intra-point inequality, which needs feasible starts: restart j starts from
        the feasible candidates ranked j, j + R, j + 2R, ... by the analytic acquisition, so
        restart 0 holds the single best one. The search is confined to the box ±``bounds``
        (``optimize_acqf`` needs one). If every restart ends infeasible (SLSQP can stop at its
        iteration limit outside the constraint) the best start batch is used instead, and any
        point violating the exact constraint is dropped; the caller tops up from ``ranked``.
        """
        constraints = None
        if context.constraint is not None:
            constraint = context.constraint
            density = log_density_of(constraint, ranked, context.device)
            ranked = ranked[density >= constraint.threshold + CONSTRAINT_MARGIN]
            constraints = [
                (
                    lambda z: (
                        constraint.log_density(z[None])[0]
                        - (constraint.threshold + CONSTRAINT_MARGIN)
                    ),
                    True,
                )
            ]
        q = min(n, len(ranked))
        if q == 0:
            return ranked
        restarts = max(1, min(self.settings.n_starts, len(ranked) // q))
        starts = ranked[: q * restarts].reshape(q, restarts, -1).transpose(1, 0, 2)
        box = np.array([[-self.settings.bounds], [self.settings.bounds]]) * np.ones(
            (2, ranked.shape[1])
        )
        acquisition = make_batch_acquisition(
            fit.surrogate, fit.y_train, self.settings.incumbent, seed=context.seed
        )
        try:
            batch, _ = optimize_acqf(
                acquisition,
                bounds=_tensor(box, context.device),
                q=q,
                num_restarts=restarts,
                batch_initial_conditions=_tensor(starts, context.device),
                nonlinear_inequality_constraints=constraints,
                options={"maxiter": self.settings.maxiter},
            )
            found = batch.detach().cpu().numpy().reshape(q, -1)
        except CandidateGenerationError:
            found = starts[0]
        if context.constraint is None:
            return found
        density = log_density_of(context.constraint, found, context.device)
        return found[density >= context.constraint.threshold]


def negated_acquisition(
    acquisition: AcquisitionFunction, device: torch.device
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """-acquisition(z) and its autograd gradient, in the form scipy's ``jac=True`` expects."""
    return _with_gradient(lambda z: -acquisition(z[None, None, :])[0], device)


def density_constraint_functions(
    constraint: Constraint, device: torch.device, margin: float = 0.0
) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray]]:
    """c(z) = log p(z) - threshold - margin (feasible where >= 0) and its autograd jacobian."""
    value_and_gradient = _with_gradient(
        lambda z: constraint.log_density(z[None])[0] - constraint.threshold - margin, device
    )
    return (lambda z: value_and_gradient(z)[0]), (lambda z: value_and_gradient(z)[1])


def _with_gradient(
    function: Callable[[torch.Tensor], torch.Tensor], device: torch.device
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    def value_and_gradient(z: np.ndarray) -> tuple[float, np.ndarray]:
        x = torch.tensor(z, dtype=torch.float64, device=device, requires_grad=True)
        value = function(x)
        (gradient,) = torch.autograd.grad(value, x)
        return value.item(), gradient.cpu().numpy()

    return value_and_gradient


def _tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float64, device=device)
