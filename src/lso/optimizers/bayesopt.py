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

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction

from lso.config.types import OptimizerSettings
from lso.constraints.base import Constraint, encoder_means
from lso.models.base import LatentModel, decode_queries
from lso.optimizers.acquisition import make_acquisition
from lso.optimizers.base import (
    Proposal,
    SearchContext,
    image_keys,
    log_density_of,
)
from lso.surrogates.base import Surrogate
from lso.surrogates.build import build_surrogate, select_training_set

logger = logging.getLogger(__name__)
EVAL_CHUNK = 1024  # candidates per acquisition evaluation
REDRAWS = 3  # further batches of n_candidates drawn when the constraint keeps too few
FALLBACK_FACTOR = 10  # then this many rejected candidates per point asked for join them
DENSITY_CHUNK = 256  # candidates per density evaluation (gmm_full holds chunk x N x d floats)


@dataclass
class SurrogateFit:
    """The shared step's result: a fitted surrogate and its acquisition function."""

    surrogate: Surrogate
    acquisition: AcquisitionFunction
    y_train: np.ndarray
    seconds: float


class BayesOptimizer(ABC):
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
        candidates, drawn, accepted = self._valid_candidates(model.latent_dim, context, rng, n)
        pool = self._ranked_pool(fit, candidates, n, context)
        acquisition_seconds = time.perf_counter() - start
        start = time.perf_counter()
        latents, images = first_new(model, pool, n, context, self.settings.dedup_distance)
        mean, var = fit.surrogate.predict(latents)
        log_density = log_density_of(context.constraint, latents, context.device)
        return Proposal(
            latents=latents,
            images=images,
            log_density=log_density,
            oracle_evaluations=evaluations,
            diagnostics={
                "surrogate_fit_seconds": fit.seconds,
                "acquisition_seconds": acquisition_seconds,
                "selection_seconds": time.perf_counter() - start,
                "n_train": float(len(fit.y_train)),
                "n_candidates_drawn": float(drawn),
                "n_candidates_valid": float(accepted),
                "n_queries_below_threshold": float(_below(log_density, context.constraint)),
            },
            predicted_mean=mean.cpu().numpy(),
            predicted_var=(var + fit.surrogate.noise_variance).cpu().numpy(),
        )

    @abstractmethod
    def _ranked_pool(
        self, fit: SurrogateFit, candidates: np.ndarray, n: int, context: SearchContext
    ) -> np.ndarray:
        """Latent points in order of preference; the subclasses' search strategy."""

    def _refresh_generated(self, model: LatentModel, context: SearchContext) -> int:
        """Draw and score ``generated_samples`` prior points once per model version.

        Returns the number of black-box evaluations spent (0 when the current model's
        samples are already there).
        """
        n = self.settings.generated_samples or 0
        if n == 0 or self._generated.get("version") == context.model_version:
            return 0
        latents, scores = score_generated_samples(model, n, context)
        self._generated = {
            "version": context.model_version,
            "latents": torch.as_tensor(latents),
            "scores": torch.as_tensor(scores),
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

    def _fit(
        self, model: LatentModel, context: SearchContext, rng: np.random.Generator
    ) -> SurrogateFit:
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
        return SurrogateFit(surrogate, acquisition, y, time.perf_counter() - start)

    def _valid_candidates(
        self, d: int, context: SearchContext, rng: np.random.Generator, needed: int
    ) -> tuple[np.ndarray, int, int]:
        """Random candidates the constraint accepts, topped up when it starves.

        Returns the candidates, how many were drawn, and how many the constraint accepted.
        ``uniform`` draws fill the box; ``normal`` draws (the VAE prior) are clipped to it so that
        every optimiser works in the same region; ``constraint`` draws come from the constraint's
        own mixture, i.e. from where the data's codes lie. When the constraint keeps fewer than
        ``needed`` of ``n_candidates`` draws, up to ``REDRAWS`` further batches are drawn; if that
        is still too few, the ``FALLBACK_FACTOR`` × ``needed`` rejected candidates nearest to its
        threshold join them and the log says so (the queries' log densities in queries.csv, and
        ``n_queries_below_threshold`` in the diagnostics, show which), rather than the run quietly
        ending short of its budget.
        """
        kept, rejected, rejected_density, drawn = [], [], [], 0
        for _ in range(1 + REDRAWS):
            candidates = self._draw(d, context, rng)
            drawn += len(candidates)
            if context.constraint is None:
                return candidates, drawn, len(candidates)
            density = chunked_log_density(candidates, context)
            valid = density >= context.constraint.threshold
            kept.append(candidates[valid])
            rejected.append(candidates[~valid])
            rejected_density.append(density[~valid])
            if sum(len(part) for part in kept) >= needed:
                break
        accepted = np.concatenate(kept)
        if len(accepted) >= needed:
            return accepted, drawn, len(accepted)
        order = np.argsort(-np.concatenate(rejected_density), kind="stable")
        nearest = np.concatenate(rejected)[order[: FALLBACK_FACTOR * needed]]
        logger.warning(
            "the constraint (threshold %.3f) kept %d of %d candidates; adding the %d rejected "
            "ones nearest to its threshold",
            context.constraint.threshold,
            len(accepted),
            drawn,
            len(nearest),
        )
        return np.concatenate([accepted, nearest]), drawn, len(accepted)

    def _draw(self, d: int, context: SearchContext, rng: np.random.Generator) -> np.ndarray:
        """``n_candidates`` points from the configured candidate distribution."""
        n = self.settings.n_candidates
        if self.settings.candidate_distribution == "uniform":
            return rng.uniform(-self.settings.bounds, self.settings.bounds, (n, d))
        if self.settings.candidate_distribution == "normal":
            return np.clip(rng.standard_normal((n, d)), -self.settings.bounds, self.settings.bounds)
        assert context.constraint is not None  # checked with the settings
        return context.constraint.sample(n, rng)


class SamplingOptimizer(BayesOptimizer):
    """The best random candidates by acquisition value, without local optimisation."""

    def _ranked_pool(
        self, fit: SurrogateFit, candidates: np.ndarray, n: int, context: SearchContext
    ) -> np.ndarray:
        values = evaluate_acquisition(fit.acquisition, candidates, context.device)
        return candidates[np.argsort(-values, kind="stable")]


def accepted_by_constraint(latents: np.ndarray, context: SearchContext) -> np.ndarray:
    """Which latent points the constraint accepts (all of them without one), as a mask."""
    if context.constraint is None:
        return np.ones(len(latents), dtype=bool)
    return chunked_log_density(latents, context) >= context.constraint.threshold


def chunked_log_density(latents: np.ndarray, context: SearchContext) -> np.ndarray:
    """The constraint's log density of many points, ``DENSITY_CHUNK`` at a time."""
    chunks = np.array_split(latents, max(1, -(-len(latents) // DENSITY_CHUNK)))
    return np.concatenate(
        [log_density_of(context.constraint, part, context.device) for part in chunks]
    )


def score_generated_samples(
    model: LatentModel, n: int, context: SearchContext
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` N(0, I) latent points, decoded and scored by the black box (``n`` oracle calls).

    The draws depend on the run seed and the model version only, so a resumed run draws the
    same ones.
    """
    latents = np.random.default_rng((context.run_seed, context.model_version)).standard_normal(
        (n, model.latent_dim)
    )
    scores = np.concatenate(
        [
            context.objective(decode_queries(model, part, context.device))
            for part in np.array_split(latents, -(-n // EVAL_CHUNK))
        ]
    )
    return latents, np.asarray(scores, dtype=np.float64)


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


def first_new(
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


def _below(log_density: np.ndarray, constraint: Constraint | None) -> int:
    """How many proposed points lie below the constraint's threshold (fallbacks)."""
    if constraint is None:
        return 0
    return int(np.sum(log_density < constraint.threshold))


def _far_from(z: np.ndarray, chosen: list[np.ndarray], min_distance: float) -> bool:
    return all(np.linalg.norm(z - other) >= min_distance for other in chosen)
