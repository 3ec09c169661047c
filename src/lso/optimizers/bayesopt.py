"""Bayesian-optimisation latent optimisers: fit a surrogate of the score, maximise EI.

Every call encodes the current data (encoder means; the constraint's encoding of the same data
is reused), fits a surrogate to (codes, scores) and builds an acquisition function; the
optimisers differ in how they maximise it:

* ``local`` (:class:`MultiStartOptimizer`, the thesis): score many random candidates, run
  SLSQP from the best ``n_starts`` with autograd gradients of the acquisition and of the
  density constraint ``log p(z) >= threshold``, then return the best distinct new decodes.
  With ``batch: true`` all ``n`` points are chosen jointly by qLogEI instead (see
  :meth:`MultiStartOptimizer._joint_batch`).
* ``sampling`` (:class:`SamplingOptimizer`): no local search; the best candidates by
  acquisition.

* ``stronger_nas`` (also :class:`SamplingOptimizer`, with its own defaults): the loop asks
  for ``batch_size`` (M) points per call, so each round refits the warm sparse GP on the
  generated samples and every query so far and takes the top M of fresh candidates.

A model without an encoder (the SN-GAN) cannot map its training images to latent points;
its surrogate learns from ``generated_samples`` prior draws, decoded and scored by the black
box once per retraining (the thesis: 100,000 per iteration), plus the run's queries. Those
hidden evaluations are reported as ``oracle_evaluations``; with an encoder the black box is
never called here. The surrogate's warm state (hyperparameters, inducing points) and the
generated samples are kept between calls and exposed through ``state_dict``/``load_state_dict``
so that a resumed run refits exactly as an uninterrupted one.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.exceptions.errors import CandidateGenerationError
from botorch.optim import optimize_acqf
from scipy.optimize import minimize

from lso.acquisition import make_acquisition, make_batch_acquisition
from lso.constraints import Constraint, encoder_means
from lso.models.base import LatentModel
from lso.optimizers.base import (
    Proposal,
    SearchContext,
    decode_queries,
    image_keys,
    log_density_of,
)
from lso.settings import OptimizerSettings
from lso.surrogates import Surrogate, build_surrogate, select_training_set

EVAL_CHUNK = 1024  # candidates per acquisition evaluation
DENSITY_CHUNK = 256  # candidates per density evaluation (gmm_full holds chunk x N x d floats)
# SLSQP may end a hair outside an active constraint; it is given a constraint this much
# tighter (in log-density units) so that its solutions pass the exact re-check.
CONSTRAINT_MARGIN = 1e-3


@dataclass
class _Fit:
    """The shared step's result: a fitted surrogate and its acquisition function."""

    surrogate: Surrogate
    acquisition: AcquisitionFunction
    y_train: np.ndarray
    seconds: float


class _BayesOptimizer(ABC):
    """The shared fit/candidate/selection steps of the BO optimisers.

    ``settings`` arrive validated and complete (:func:`lso.settings.parse_config`), so the
    optimisers check nothing themselves.
    """

    def __init__(self, settings: OptimizerSettings) -> None:
        self.settings = settings
        self._warm_state: dict[str, Any] = {}
        self._generated: dict[str, Any] = {}

    def state_dict(self) -> dict[str, Any]:
        """The surrogate's warm state and the current generated samples (tensors, numbers)."""
        state: dict[str, Any] = {}
        if self._warm_state:
            state["surrogate"] = self._warm_state
        if self._generated:
            state["generated"] = self._generated
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._warm_state = dict(state.get("surrogate", {}))
        self._generated = dict(state.get("generated", {}))

    def propose(self, model: LatentModel, n: int, context: SearchContext) -> Proposal:
        rng = np.random.default_rng(context.seed)
        evaluations = self._refresh_generated(model, context)
        fit = self._fit(model, context, rng)
        start = time.perf_counter()
        candidates = self._valid_candidates(model.latent_dim, context, rng)
        pool = self._ranked_pool(fit, candidates, n, context)
        acquisition_seconds = time.perf_counter() - start
        start = time.perf_counter()
        latents, images = _first_new(model, pool, n, context, self.settings.dedup_distance)
        mean, var = fit.surrogate.predict(latents)
        return Proposal(
            latents=latents,
            images=images,
            log_density=log_density_of(context.constraint, latents, context.device),
            oracle_evaluations=evaluations,
            diagnostics={
                "surrogate_fit_seconds": fit.seconds,
                "acquisition_seconds": acquisition_seconds,
                "selection_seconds": time.perf_counter() - start,
                "n_train": float(len(fit.y_train)),
                "n_candidates_drawn": float(self.settings.n_candidates),
                "n_candidates_valid": float(len(candidates)),
            },
            predicted_mean=mean.cpu().numpy(),
            predicted_var=(var + fit.surrogate.noise_variance).cpu().numpy(),
        )

    @abstractmethod
    def _ranked_pool(
        self, fit: _Fit, candidates: np.ndarray, n: int, context: SearchContext
    ) -> np.ndarray:
        """Latent points in order of preference; the subclasses' search strategy."""

    def _refresh_generated(self, model: LatentModel, context: SearchContext) -> int:
        """Draw and score ``generated_samples`` prior points once per model version.

        Returns the number of black-box evaluations spent (0 when the current model's
        samples are already there). The draws depend on the run seed and the model version
        only, so a resumed run draws the same ones.
        """
        n = self.settings.generated_samples or 0
        if n == 0 or self._generated.get("version") == context.model_version:
            return 0
        latents = np.random.default_rng((context.run_seed, context.model_version)).standard_normal(
            (n, model.latent_dim)
        )
        scores = np.concatenate(
            [
                context.objective(decode_queries(model, part, context.device))
                for part in np.array_split(latents, -(-n // EVAL_CHUNK))
            ]
        )
        self._generated = {
            "version": context.model_version,
            "latents": torch.as_tensor(latents),
            "scores": torch.as_tensor(np.asarray(scores, dtype=np.float64)),
        }
        return n

    def _training_data(
        self, model: LatentModel, context: SearchContext
    ) -> tuple[np.ndarray, np.ndarray]:
        """(latent points, scores) the surrogate may learn from.

        With an encoder: the encoder means of the current data (the constraint's, if it
        encoded the same tensor). Without: the run's queries and the generated samples.
        """
        if model.has_encoder:
            means = encoder_means(model, context.data_images, context.constraint)
            return means.double().cpu().numpy(), context.data_scores
        latents = context.query_latents.reshape(-1, model.latent_dim)
        scores = context.query_scores
        if self._generated:
            latents = np.concatenate([latents, self._generated["latents"].numpy()])
            scores = np.concatenate([scores, self._generated["scores"].numpy()])
        return latents, scores

    def _fit(self, model: LatentModel, context: SearchContext, rng: np.random.Generator) -> _Fit:
        """Choose the training set (encoded data, or queries and generated samples), fit the
        surrogate (warm), build EI."""
        start = time.perf_counter()
        x, y = select_training_set(
            *self._training_data(model, context),
            self.settings.n_best,
            self.settings.n_random,
            rng,
        )
        surrogate = build_surrogate(
            self.settings.surrogate, device=context.device, seed=context.seed
        )
        surrogate.fit(x, y, warm_start=self._warm_state)
        self._warm_state = surrogate.get_warm_state()
        acquisition = make_acquisition(
            self.settings.acquisition, surrogate, y, self.settings.incumbent
        )
        return _Fit(surrogate, acquisition, y, time.perf_counter() - start)

    def _valid_candidates(
        self, d: int, context: SearchContext, rng: np.random.Generator
    ) -> np.ndarray:
        """Random candidates, keeping those the density constraint accepts.

        ``uniform`` draws fill the box; ``normal`` draws (the VAE prior) are clipped to it so
        that every optimiser works in the same region; ``constraint`` draws come from the
        constraint's own mixture, i.e. from where the data's codes lie.
        """
        n = self.settings.n_candidates
        if self.settings.candidate_distribution == "uniform":
            candidates = rng.uniform(-self.settings.bounds, self.settings.bounds, (n, d))
        elif self.settings.candidate_distribution == "normal":
            candidates = np.clip(
                rng.standard_normal((n, d)), -self.settings.bounds, self.settings.bounds
            )
        else:
            assert context.constraint is not None  # checked with the settings
            candidates = context.constraint.sample(n, rng)
        if context.constraint is None:
            return candidates
        density = np.concatenate(
            [
                log_density_of(context.constraint, part, context.device)
                for part in np.array_split(candidates, -(-len(candidates) // DENSITY_CHUNK))
            ]
        )
        return candidates[density >= context.constraint.threshold]


class MultiStartOptimizer(_BayesOptimizer):
    """The thesis's optimiser: multi-start SLSQP on EI under the density constraint.

    Without a constraint SLSQP is confined to the box ±``bounds``; with one there is no box
    (as in the thesis): the density keeps the search near the data.
    """

    def _ranked_pool(
        self, fit: _Fit, candidates: np.ndarray, n: int, context: SearchContext
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
        self, fit: _Fit, ranked: np.ndarray, n: int, context: SearchContext
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


class SamplingOptimizer(_BayesOptimizer):
    """The best random candidates by acquisition value, without local optimisation."""

    def _ranked_pool(
        self, fit: _Fit, candidates: np.ndarray, n: int, context: SearchContext
    ) -> np.ndarray:
        values = evaluate_acquisition(fit.acquisition, candidates, context.device)
        return candidates[np.argsort(-values, kind="stable")]


def evaluate_acquisition(
    acquisition: AcquisitionFunction, latents: np.ndarray, device: torch.device
) -> np.ndarray:
    """Acquisition value of each latent point, ``EVAL_CHUNK`` points at a time."""
    values = []
    with torch.no_grad():
        for start in range(0, len(latents), EVAL_CHUNK):
            z = torch.as_tensor(latents[start : start + EVAL_CHUNK], dtype=torch.float64)
            values.append(acquisition(z.to(device)[:, None, :]).cpu().numpy())
    return np.concatenate(values) if values else np.zeros(0)


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


def _first_new(
    model: LatentModel, pool: np.ndarray, n: int, context: SearchContext, min_distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` points of ``pool`` that are ``min_distance`` apart and decode to new images.

    Images already in ``context.known`` or among the chosen are skipped. Decoding proceeds in
    growing blocks, so a pool of 100k candidates is decoded only as far as needed.
    """
    chosen: list[np.ndarray] = []
    images: list[np.ndarray] = []
    seen = set(context.known)
    start, block = 0, max(2 * n, 16)
    while len(chosen) < n and start < len(pool):
        part = pool[start : start + block]
        part = part[[_far_from(z, chosen, min_distance) for z in part]]
        decoded = decode_queries(model, part, context.device)
        for z, image, key in zip(part, decoded, image_keys(decoded), strict=True):
            if len(chosen) < n and key not in seen and _far_from(z, chosen, min_distance):
                chosen.append(z)
                images.append(image)
                seen.add(key)
        start, block = start + block, min(2 * block, 4096)
    if not chosen:
        return np.zeros((0, pool.shape[1])), decode_queries(model, pool[:0], context.device)
    return np.stack(chosen), np.stack(images)


def _tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float64, device=device)


def _far_from(z: np.ndarray, chosen: list[np.ndarray], min_distance: float) -> bool:
    return all(np.linalg.norm(z - other) >= min_distance for other in chosen)
