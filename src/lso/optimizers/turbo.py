"""Trust-region BO in the latent space (``optimizer.type: turbo``): TuRBO-L and LOL-BO.

Each round fits a GP to the latent points and scores it knows (:mod:`lso.surrogates.turbo_gp`:
BoTorch's ``SingleTaskGP`` up to ``exact_max`` points, an approximate GP above), draws Sobol
candidates in the trust region around the best point the constraint accepts
(:mod:`lso.optimizers.trust_region`), keeps the candidates it accepts (the region halves until
it holds enough of them), and picks the round's points among them by Thompson
sampling (BoTorch's ``MaxPosteriorSampling``) or by log expected improvement. After the round
is scored the loop reports the scores (:meth:`TurboOptimizer.observe`) and the region grows,
shrinks or restarts. With ``joint_update: true`` this is LOL-BO: after ``e2e_freq`` rounds
without a new best the model and the approximate GP are fine-tuned together and the best
points recentred (:mod:`lso.optimizers.joint_update`).

What the GP learns from. With an encoder: the encoder means of the data when the current
model version began (LOL-BO encodes its initial data once) plus every query since, at the
latent point it was decoded from, where its score is exact. Without one (the SN-GAN): that
version's ``generated_samples`` and every query, as :mod:`lso.optimizers.bayesopt` does.

When the model changes (a weighted retraining every r queries, or LOL-BO's joint update) the
latent space changes under the region. The data are then encoded again and the region is
recentred on the encoding of the best datum (the centre is always the best training point
the constraint accepts), while its length and streaks carry on. Resetting them would make
the region meaningless for weighted retraining with q = r, which retrains after every round:
it could never shrink. The length is a fraction of the unit box scaled by the GP's
lengthscales, which are refitted to the new encodings, so it keeps its meaning (how local
the search must be to make progress) across the change; CoBO, too, re-centres its region on
the re-encoded best point ("trust region recoordination"). The approximate GP, too, carries
on and trains on all re-encoded points for ``initial_epochs``.

Everything that decides the next proposal (region, training set, approximate GP, LOL-BO's
counter) is in ``state_dict``, so a killed run resumes to the same queries.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement
from botorch.generation import MaxPosteriorSampling
from botorch.models.model import Model
from gpytorch.settings import max_cholesky_size

from lso.config.types import OptimizerSettings
from lso.constraints.base import encoder_means
from lso.models.base import LatentModel, decode_queries
from lso.optimizers.base import (
    Observation,
    Proposal,
    SearchContext,
    image_keys,
    log_density_of,
)
from lso.optimizers.bayesopt import (
    accepted_by_constraint,
    evaluate_acquisition,
    first_new,
    score_generated_samples,
)
from lso.optimizers.joint_update import fine_tune_jointly, recenter, update_sources
from lso.optimizers.trust_region import (
    TrustRegionRules,
    TrustRegionState,
    box,
    box_candidates,
    from_unit,
    to_unit,
    tutorial_failure_tolerance,
    update_state,
)
from lso.surrogates.turbo_gp import (
    ApproximateGP,
    KernelBounds,
    fit_exact_gp,
    hyperparameters,
    lengthscales,
)


class TurboOptimizer:
    """TuRBO-1 in the latent space, and LOL-BO with ``joint_update``."""

    def __init__(self, settings: OptimizerSettings) -> None:
        self.settings = settings
        self.kernel_bounds = KernelBounds(
            settings.lengthscale_min,
            settings.lengthscale_max,
            settings.noise_min,
            settings.noise_max,
        )
        self.region: TrustRegionState | None = None
        self.rules: TrustRegionRules | None = None
        self.anchor: dict[str, Any] = {}
        self.approximate: ApproximateGP | None = None
        self.approximate_state: dict[str, Any] = {}
        self.exact_start: dict[str, torch.Tensor] = {}
        self.stalled_rounds = 0

    # -- state ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The region, its rules, the training set's anchor, the approximate GP, LOL-BO's count
        of rounds without a new best (tensors and numbers only)."""
        if self.region is None or self.rules is None:
            return {}
        state = {
            "region": self.region.as_dict(),
            "failure_tolerance": self.rules.failure_tolerance,
            "anchor": self.anchor,
            "exact_start": self.exact_start,
            "stalled_rounds": self.stalled_rounds,
        }
        if self.approximate is not None:
            state["approximate"] = {**self.approximate_state, **self.approximate.state()}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.region = TrustRegionState.from_dict(state["region"])
        self.rules = self._rules(int(state["failure_tolerance"]))
        self.anchor = dict(state["anchor"])
        self.exact_start = dict(state["exact_start"])
        self.stalled_rounds = int(state["stalled_rounds"])
        self.approximate_state = dict(state.get("approximate", {}))
        self.approximate = None  # rebuilt from approximate_state on the next call

    def _rules(self, failure_tolerance: int) -> TrustRegionRules:
        s = self.settings
        return TrustRegionRules(
            length_init=s.length_init,
            length_min=s.length_min,
            length_max=s.length_max,
            success_tolerance=s.success_tolerance,
            failure_tolerance=failure_tolerance,
            improvement_threshold=s.improvement_threshold,
        )

    # -- proposing -----------------------------------------------------------------------

    def propose(self, model: LatentModel, n: int, context: SearchContext) -> Proposal:
        evaluations = self._refresh_anchor(model, context)
        x, y = self._training_set(context)
        center = self._center(x, y, context)
        self._start_region(n, model.latent_dim, float(y[center]))
        assert self.region is not None
        start = time.perf_counter()
        gp, shift, scale = self._fit(x.to(context.device), y.to(context.device), context.seed)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        candidates, valid = self._valid_candidates(x[center], lengthscales(gp).cpu(), n, context)
        best = (float(y[center]) - shift) / scale
        latents, images = self._choose(model, gp, valid.to(context.device), n, context, best)
        mean, var = _predict(gp, to_unit(torch.as_tensor(latents), self.bounds).to(context.device))
        return Proposal(
            latents=latents,
            images=images,
            log_density=log_density_of(context.constraint, latents, context.device),
            oracle_evaluations=evaluations,
            diagnostics={
                "surrogate_fit_seconds": fit_seconds,
                "acquisition_seconds": time.perf_counter() - start,
                "n_train": float(len(y)),
                "n_candidates_drawn": float(len(candidates)),
                "n_candidates_valid": float(len(valid)),
                "trust_region_length": self.region.length,
                "trust_region_restarts": float(self.region.restarts),
            },
            predicted_mean=mean * scale + shift,
            predicted_var=var * scale**2,
        )

    def _center(self, x: torch.Tensor, y: torch.Tensor, context: SearchContext) -> int:
        """Index of the region's centre: the best training point the constraint accepts (the
        best feasible point, as in SCBO, Eriksson & Poloczek 2021), or the best point when
        the constraint accepts none. A best datum below the constraint's threshold would
        leave the region without a valid point however small it grew: a weighted-retraining
        faces run centred on the best face stopped after one round, when a retraining had
        moved that face's code below the GMM's threshold."""
        accepted = torch.as_tensor(accepted_by_constraint(self._latents(x), context))
        if not accepted.any():
            return int(torch.argmax(y))
        return int(torch.argmax(torch.where(accepted, y, -torch.inf)))

    def _start_region(self, n: int, dim: int, best: float) -> None:
        """On the first round: the initial region and its rules, the failure tolerance
        resolved from that round's q (the tutorial's, unless configured), the best score
        that of the centre."""
        if self.region is not None:
            return
        tolerance = self.settings.failure_tolerance or tutorial_failure_tolerance(n, dim)
        self.rules = self._rules(tolerance)
        self.region = TrustRegionState(self.settings.length_init, best)

    @property
    def bounds(self) -> float:
        return float(self.settings.bounds)

    def _latents(self, unit: torch.Tensor) -> np.ndarray:
        """Unit-cube points as latent points (numpy, on the CPU)."""
        return from_unit(unit, self.bounds).cpu().numpy()

    def _refresh_anchor(self, model: LatentModel, context: SearchContext) -> int:
        """Rebuild the fixed part of the training set when the model version changed; return
        the oracle calls spent on generated samples (models without an encoder)."""
        if self.anchor.get("version") == context.model_version:
            return 0
        spent, queries_before = 0, len(context.query_scores)
        if model.has_encoder:
            means = encoder_means(model, context.data_images, context.constraint)
            latents, scores = means.double().cpu().numpy(), context.data_scores
        else:
            spent, queries_before = self.settings.generated_samples, 0
            latents, scores = score_generated_samples(model, spent, context)
        self.anchor = {
            "version": context.model_version,
            "latents": torch.as_tensor(latents, dtype=torch.float64),
            "scores": torch.as_tensor(np.asarray(scores, dtype=np.float64)),
            "queries_before": queries_before,
            "trained_on": 0,  # points of the set the approximate GP has learned from
        }
        return spent

    def _training_set(self, context: SearchContext) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit-cube inputs and raw scores: the anchor, then the queries made since."""
        since, base = self.anchor["queries_before"], self.anchor["latents"]
        queries = context.query_latents.reshape(-1, base.shape[1])[since:]
        latents = torch.cat([base, torch.as_tensor(queries, dtype=torch.float64)])
        scores = torch.cat([self.anchor["scores"], torch.as_tensor(context.query_scores[since:])])
        return to_unit(latents, self.bounds), scores

    def _fit(self, x: torch.Tensor, y: torch.Tensor, seed: int) -> tuple[Model, float, float]:
        """The round's GP and the (shift, scale) of its standardised scores."""
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            if self.settings.joint_update or len(x) > self.settings.exact_max:
                return self._train_approximate(x, y, seed)
            shift, scale = _standardisation(y)
            gp = fit_exact_gp(x, (y - shift) / scale, self.kernel_bounds, self.exact_start)
            self.exact_start = hyperparameters(gp)
            return gp, shift, scale

    def _train_approximate(
        self, x: torch.Tensor, y: torch.Tensor, seed: int
    ) -> tuple[Model, float, float]:
        """LOL-BO's surrogate: trained on every point for ``initial_epochs`` when the training
        set was rebuilt, on the points added since for ``update_epochs`` otherwise."""
        if self.approximate is None:
            state = self.approximate_state or None
            self.approximate = ApproximateGP(x, self.settings.n_inducing, self.kernel_bounds, state)
            if state is None:
                shift, scale = _standardisation(y)
                self.approximate_state = {"shift": shift, "scale": scale}
        shift, scale = self.approximate_state["shift"], self.approximate_state["scale"]
        seen = self.anchor["trained_on"]
        first = slice(0, None) if seen == 0 else slice(seen, None)
        epochs = self.settings.initial_epochs if seen == 0 else self.settings.update_epochs
        if len(x[first]):
            self.approximate.train(
                x[first],
                (y[first] - shift) / scale,
                epochs=epochs,
                batch_size=self.settings.update_batch_size,
                lr=self.settings.update_lr,
                max_grad_norm=self.settings.max_grad_norm,
                generator=torch.Generator().manual_seed(seed),
            )
        self.anchor["trained_on"] = len(x)
        return self.approximate.model, shift, scale

    def _valid_candidates(
        self, center: torch.Tensor, scales: torch.Tensor, n: int, context: SearchContext
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The region's Sobol candidates (unit cube, CPU; the tutorial's number unless set)
        and those the constraint accepts.

        A region holding fewer than ``n`` valid candidates reaches beyond the valid part of
        the latent space around its centre (a 64-D box of side 0.8 around a face's code is
        mostly below the GMM's threshold): it halves, as after failed rounds, and draws again,
        down to ``length_min``. So the region is as large as the constraint lets it be.
        """
        assert self.region is not None
        count = self.settings.n_candidates or min(5000, max(2000, 200 * len(center)))
        while True:
            lower, upper = box(center, scales, self.region.length)
            candidates = box_candidates(
                center, lower, upper, count, self.settings.perturbation_dims, context.seed % 2**31
            )
            valid = candidates[accepted_by_constraint(self._latents(candidates), context)]
            if len(valid) >= n or self.region.length / 2 < self.settings.length_min:
                return candidates, valid
            self.region = replace(self.region, length=self.region.length / 2)

    def _choose(
        self,
        model: LatentModel,
        gp: Model,
        candidates: torch.Tensor,
        n: int,
        context: SearchContext,
        best: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The round's ``n`` points among the valid candidates (unit cube) and their images."""
        if self.settings.acquisition == "log_ei":
            values = evaluate_acquisition(
                LogExpectedImprovement(gp, best_f=best), candidates.cpu().numpy(), context.device
            )
            pool = self._latents(candidates[torch.as_tensor(np.argsort(-values, kind="stable"))])
            return first_new(model, pool, n, context, self.settings.dedup_distance)
        return self._thompson(model, gp, candidates, n, context)

    def _thompson(
        self,
        model: LatentModel,
        gp: Model,
        candidates: torch.Tensor,
        n: int,
        context: SearchContext,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Thompson sampling without replacement; picks that decode to a known image (or lie
        within ``dedup_distance`` of a pick) are replaced by further Thompson samples from the
        candidates not yet tried, until ``n`` are new or none is left. Each draw that falls
        short asks for twice as many picks as the last: every draw factors the posterior over
        all remaining candidates, and a model that decodes most of them to known images (a
        one-epoch smoke model draws one blank digit) would otherwise need thousands of draws
        of ``n`` (21 minutes for one round of 3,200 candidates)."""
        sampler = MaxPosteriorSampling(gp, replacement=False)
        chosen = np.zeros((0, candidates.shape[1]))
        images = decode_queries(model, chosen, context.device)
        remaining = candidates
        asked = 0
        with torch.random.fork_rng(), torch.no_grad(), max_cholesky_size(float("inf")):
            torch.manual_seed(context.seed)
            while len(chosen) < n and len(remaining):
                asked = min(max(n - len(chosen), 2 * asked), len(remaining))
                picks = sampler(remaining, num_samples=asked)
                remaining = remaining[~(remaining[:, None, :] == picks[None]).all(-1).any(-1)]
                picks_latents = self._latents(picks)
                far = [_distance(z, chosen) >= self.settings.dedup_distance for z in picks_latents]
                known = context.known | set(image_keys(images))
                latents, decoded = first_new(
                    model,
                    picks_latents[far],
                    n - len(chosen),
                    replace(context, known=known),
                    self.settings.dedup_distance,
                )
                chosen = np.concatenate([chosen, latents])
                images = np.concatenate([images, decoded])
        return chosen, images

    # -- observing -----------------------------------------------------------------------

    def observe(
        self,
        model: LatentModel,
        proposal: Proposal,
        scores: np.ndarray,
        context: SearchContext,
        max_evaluations: int,
    ) -> Observation:
        """Update the region with the round's best score; for LOL-BO, count rounds without a
        new best and, after ``e2e_freq`` of them, fine-tune jointly and recentre."""
        assert self.region is not None and self.rules is not None  # set by propose
        previous_best = self.region.best_value
        self.region = update_state(self.region, self.rules, float(np.max(scores)))
        if not self.settings.joint_update:
            return Observation()
        improved = float(np.max(scores)) > previous_best
        self.stalled_rounds = 0 if improved else self.stalled_rounds + 1
        if self.stalled_rounds < self.settings.e2e_freq:
            return Observation()
        self.stalled_rounds = 0
        return self._joint_update(model, proposal, scores, context, max_evaluations)

    def _joint_update(
        self,
        model: LatentModel,
        proposal: Proposal,
        scores: np.ndarray,
        context: SearchContext,
        max_evaluations: int,
    ) -> Observation:
        """Fine-tune model and GP on the newest batch and the top k, recentre those points."""
        assert self.approximate is not None and self.region is not None
        start = time.perf_counter()
        newest = torch.as_tensor(proposal.images, dtype=torch.float32)
        images, source_scores = update_sources(newest, scores, context, self.settings.top_k)
        shift, scale = self.approximate_state["shift"], self.approximate_state["scale"]
        fine_tune_jointly(
            model,
            self.approximate,
            images,
            torch.as_tensor((source_scores - shift) / scale),
            bounds=self.bounds,
            epochs=self.settings.joint_epochs,
            batch_size=self.settings.joint_batch_size,
            lr=self.settings.joint_lr,
            max_grad_norm=self.settings.max_grad_norm,
            generator=torch.Generator().manual_seed(context.seed),
        )
        evaluated = recenter(model, images, context, max_evaluations)
        if len(evaluated.scores):
            best = max(self.region.best_value, float(evaluated.scores.max()))
            self.region = replace(self.region, best_value=best)
        return Observation(
            model_updated=True,
            evaluated=evaluated,
            diagnostics={"joint_update_seconds": time.perf_counter() - start},
        )


def _standardisation(y: torch.Tensor) -> tuple[float, float]:
    std = float(y.std()) if len(y) > 1 else 0.0
    return float(y.mean()), std if std > 1e-12 else 1.0


def _distance(z: np.ndarray, chosen: np.ndarray) -> float:
    """Distance from ``z`` to the nearest chosen point (infinite when none is chosen)."""
    return float(np.linalg.norm(chosen - z, axis=1).min(initial=np.inf))


def _predict(gp: Model, unit: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Standardised predictive mean and variance (with the noise) at the chosen points."""
    if len(unit) == 0:
        return np.zeros(0), np.zeros(0)
    with torch.no_grad():
        posterior = gp.posterior(unit, observation_noise=True)
        mean, variance = posterior.mean.reshape(-1), posterior.variance.reshape(-1)
        return mean.cpu().numpy(), variance.cpu().numpy()
