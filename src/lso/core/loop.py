"""The weighted-retraining loop (Tripp et al. 2020; the thesis's ``opt_mnist_*`` scripts).

Each iteration retrains the generative model on weighted data and then queries ``r`` new
points in rounds: fit the validity constraint to the current latent space, ask the optimiser
for ``q`` points (``optimizer.batch_size``; all ``r`` at once unless set), decode and score
them with the black box, and append them to the data. The thesis proposes all ``r`` from one
surrogate fit; Tripp et al. refit after every query (``q = 1``). The state is saved after every
round, so a killed run resumes where it stopped and, on CPU, ends with exactly the queries an
uninterrupted run makes.

An optimiser that learns from its own scores (:class:`lso.optimizers.base.ObservingOptimizer`,
the trust region) is told each round's scores after they are recorded. It may answer that it
fine-tuned the model (LOL-BO's joint update: a new model version, counted among the
retrainings) and with points it decoded and scored itself (LOL-BO's recentering). Those are
oracle calls, recorded as queries of the round and counted against the budget, so every
method of a comparison spends the same number of black-box calls; ``run.json`` and the
diagnostics count them as ``recentering_evaluations``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lso.config.types import RunSettings
from lso.constraints.base import Constraint, build_constraint
from lso.constraints.registry import CONSTRAINTS
from lso.core.registry import WEIGHTINGS
from lso.core.runfiles import write_run
from lso.core.state import LoopState, load_state, restore_rng, rng_state, save_state, to_uint8
from lso.core.training import fit
from lso.core.weighting import compute_weights, fb_keep_mask
from lso.models.base import LatentModel
from lso.models.fitting import FitSettings
from lso.optimizers.base import (
    ObservingOptimizer,
    Proposal,
    SearchContext,
    build_optimizer,
    image_keys,
)
from lso.optimizers.grid import latent_grid
from lso.runtime import training_images

logger = logging.getLogger(__name__)


def predictive_log_likelihood(
    scores: np.ndarray, mean: np.ndarray | None, var: np.ndarray | None
) -> float:
    """Mean Gaussian log density of the observed scores under the surrogate's predictions.

    It says how well the surrogate predicted the very points it chose: the quantity that
    decides whether BO is better than random search. NaN for optimisers without a surrogate.
    """
    if mean is None or var is None:
        return float("nan")
    var = np.maximum(np.asarray(var, dtype=np.float64), 1e-12)
    residual = np.asarray(scores, dtype=np.float64) - np.asarray(mean, dtype=np.float64)
    return float(np.mean(-0.5 * (np.log(2 * np.pi * var) + residual**2 / var)))


class WeightedRetrainingRun:
    """One run (experiment x seed) of weighted-retraining latent space optimisation."""

    def __init__(
        self,
        model: LatentModel,
        dataset: dict[str, np.ndarray],
        settings: RunSettings,
        objective: Callable[[np.ndarray], np.ndarray],
        *,
        seed: int,
        device: torch.device,
        state_path: Path,
        fingerprint: str,
    ) -> None:
        self.model = model.to(device)
        self.model.finish_schedules()
        self.settings = settings
        self.seed = seed
        self.objective = objective
        self.device = device
        self.state_path = state_path
        self.fingerprint = fingerprint
        self.val_images = training_images(dataset["val_images"], device)
        self.optimizer = build_optimizer(settings.optimizer)
        self._fitted_constraint: tuple[int, Constraint | None] = (-1, None)
        self.generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        resumed = load_state(state_path, fingerprint)
        if resumed is not None:
            logger.info("resuming from %s after %d queries", state_path, len(resumed.rows))
            self.model.load_state_dict(resumed.model_state)
            restore_rng(resumed.rng, self.generator)
            if resumed.optimizer_state:
                self.optimizer.load_state_dict(resumed.optimizer_state)
            self.state = resumed
        else:
            self.state = LoopState(
                iteration=0,
                queried_this_iteration=0,
                data_images=to_uint8(dataset["train_images"]),
                data_scores=torch.as_tensor(dataset["train_scores"], dtype=torch.float64),
                model_state={},
            )
        self.known = self._known_images(dataset["train_images"])

    def _known_images(self, initial_images: np.ndarray) -> set[bytes]:
        """Images never to query again: the initial data, everything queried, the data now."""
        known = set(image_keys(initial_images))
        known.update(image_keys(self.state.data_images.numpy() / 255.0))
        if self.state.images:
            known.update(image_keys(torch.stack(self.state.images).numpy() / 255.0))
        return known

    @property
    def n_queries(self) -> int:
        return len(self.state.rows)

    def run(self, on_round_end: Callable[[int], None] | None = None) -> None:
        """Query until the budget is spent (or the optimiser runs out of new points).

        ``on_round_end`` is called with the number of queries so far after each saved round.
        """
        while self.n_queries < self.settings.budget and not self._gave_up():
            self._round_start = time.perf_counter()
            self._round()
            self.state.elapsed += time.perf_counter() - self._round_start
            self.state.model_state = self.model.state_dict()
            self.state.rng = rng_state(self.generator)
            self.state.optimizer_state = self.optimizer.state_dict()
            save_state(self.state_path, self.state, self.fingerprint)
            if on_round_end is not None:
                on_round_end(self.n_queries)

    def _gave_up(self) -> bool:
        """Stop when the optimiser finds nothing new and retraining cannot change that."""
        never_retrains = math.isinf(self.settings.retrain_every) and self.state.iteration > 0
        return self.state.stalled >= 3 or (never_retrains and self.state.stalled > 0)

    def _round(self) -> None:
        """One optimiser call; a new iteration (retraining, snapshot) starts when one is due."""
        t = self.state.iteration
        timings = {"retrain_seconds": 0.0}
        if self.state.queried_this_iteration == 0:
            start = time.perf_counter()
            epochs = (
                self.settings.initial_retrain_epochs if t == 0 else self.settings.retrain_epochs
            )
            if t == 0 or not math.isinf(self.settings.retrain_every):
                timings.update(self._retrain(epochs, t))
            if self.settings.snapshot is not None:
                self._snapshot(t)
            timings["retrain_seconds"] = time.perf_counter() - start
        proposal, context, propose_timings = self._propose()
        timings.update(propose_timings)
        if len(proposal.latents) == 0:
            self.state.stalled += 1
            logger.warning("iteration %d: the optimiser found no new valid point", t)
            self._end_iteration()
            return
        self.state.stalled = 0
        scores = self._record(proposal)
        queried = len(scores)
        if isinstance(self.optimizer, ObservingOptimizer):
            observed = self._observe(proposal, scores, context)
            queried += int(observed["recentering_evaluations"])
            timings.update(observed)
        self._log_diagnostics(proposal, scores, timings)
        self.state.queried_this_iteration += queried
        if self.state.queried_this_iteration >= self.settings.retrain_every:
            self._end_iteration()

    def _end_iteration(self) -> None:
        self.state.iteration += 1
        self.state.queried_this_iteration = 0

    def _data_tensor(self) -> torch.Tensor:
        """The training data as 8-bit levels on the host, held once: retraining and encoding
        convert them batch by batch (:func:`lso.runtime.unit_batch`), to the values a whole
        conversion gives, without a float copy of 160,000 faces on the device."""
        return self.state.data_images

    def _retrain(self, epochs: float, t: int) -> dict[str, float]:
        """Retrain on the weighted data; return the model's ``retrain_diagnostics`` terms,
        averaged over the retraining's steps."""
        if epochs <= 0:
            return {}
        weighting = self.settings.weighting
        weights = compute_weights(
            self.state.data_scores.numpy(), weighting.type, **weighting.parameters()
        )
        settings = FitSettings(
            epochs=epochs,
            batch_size=self.settings.batch_size,
            lr=self.settings.lr,
            keep_optimizer_state=self.settings.keep_optimizer_state,
        )
        log = fit(
            self.model,
            self._data_tensor(),
            settings,
            generator=self.generator,
            weights=weights,
            val_images=self.val_images,
            description=f"retrain {t}",
        )
        self.state.n_retrainings += 1
        logger.info(
            "iteration %d: retrained %.2f epochs, final train loss %.3f",
            t,
            epochs,
            log.loc[log.split == "train", "loss"].iloc[-1],
        )
        train = log[log.split == "train"]
        return {term: float(train[term].mean()) for term in self.model.retrain_diagnostics}

    def _constraint(self, data: torch.Tensor, round_seed: int) -> Constraint | None:
        """The constraint fitted to the current data; one that reads only the model (the
        discriminator's, which decodes and judges thousands of prior samples) is fitted once
        per model version, with a seed of that version, so a resumed run fits the same one."""
        spec = self.settings.constraint
        version = self.state.n_retrainings
        per_version = not CONSTRAINTS.traits(spec.type).reads_data
        if per_version and self._fitted_constraint[0] == version:
            return self._fitted_constraint[1]
        seed = self.seed * 100_003 + version if per_version else round_seed
        constraint = build_constraint(
            spec.type,
            self.model,
            data,
            seed=seed % 2**31,
            warm_start=self.state.constraint_state,
            **spec.options(),
        )
        self.state.constraint_state = constraint.fit_state if constraint is not None else {}
        self._fitted_constraint = (version, constraint)
        return constraint

    def _propose(self) -> tuple[Proposal, SearchContext, dict[str, float]]:
        """Fit the constraint to the current data and ask the optimiser for one round."""
        start = time.perf_counter()
        data = self._data_tensor()
        round_seed = self.seed * 100_003 + self.n_queries  # new per round, reproducible
        constraint = self._constraint(data, round_seed)
        constraint_seconds = time.perf_counter() - start
        n = min(
            self.settings.queries_per_round,
            self.settings.retrain_every - self.state.queried_this_iteration,
            self.settings.budget - self.n_queries,
        )
        context = SearchContext(
            objective=self.objective,
            constraint=constraint,
            known=self.known,
            device=self.device,
            data_images=data,
            data_scores=self.state.data_scores.numpy(),
            seed=round_seed,
            query_latents=self._query_latents(),
            query_scores=np.asarray([row["score"] for row in self.state.rows], dtype=np.float64),
            model_version=self.state.n_retrainings,
            run_seed=self.seed,
        )
        start = time.perf_counter()
        proposal = self.optimizer.propose(self.model, int(n), context)
        self.state.oracle_evaluations += proposal.oracle_evaluations
        timings = {
            "constraint_seconds": constraint_seconds,
            "propose_seconds": time.perf_counter() - start,
        }
        return proposal, context, timings

    def _observe(
        self, proposal: Proposal, scores: np.ndarray, context: SearchContext
    ) -> dict[str, float]:
        """Tell the optimiser the round's scores; record the points it scored itself as
        queries, within what is left of the budget. Returns the round's diagnostics of it."""
        assert isinstance(self.optimizer, ObservingOptimizer)
        left = self.settings.budget - self.n_queries
        observation = self.optimizer.observe(self.model, proposal, scores, context, left)
        if observation.model_updated:
            self.state.n_retrainings += 1
        evaluated = observation.evaluated
        n = 0 if evaluated is None else len(evaluated.scores)
        if evaluated is not None and n:
            nan = np.full(n, np.nan)  # not proposed under the constraint: re-encoded data
            self._add_queries(evaluated.latents, evaluated.images, evaluated.scores, nan)
            self.state.recentering_evaluations += n
        return {**observation.diagnostics, "recentering_evaluations": float(n)}

    def _record(self, proposal: Proposal) -> np.ndarray:
        """Score the proposal with the black box and record its queries."""
        scores = self.objective(proposal.images)
        self._add_queries(proposal.latents, proposal.images, scores, proposal.log_density)
        return scores

    def _add_queries(
        self,
        latents: np.ndarray,
        images: np.ndarray,
        scores: np.ndarray,
        log_densities: np.ndarray,
    ) -> None:
        """Log one row per query, remember the images, grow the data."""
        best = max((row["best_so_far"] for row in self.state.rows[-1:]), default=-np.inf)
        for z, image, score, log_density in zip(
            latents, images, scores, log_densities, strict=True
        ):
            best = max(best, float(score))
            self.state.rows.append(
                {
                    "query": self.n_queries + 1,
                    "iteration": self.state.iteration,
                    "score": float(score),
                    "best_so_far": best,
                    "model_version": self.state.n_retrainings,
                    "seconds": self.state.elapsed + time.perf_counter() - self._round_start,
                    "log_density": float(log_density),
                }
            )
            self.state.latents.append([float(v) for v in z])
            self.state.images.append(to_uint8(image))
        self.known.update(image_keys(images))
        self._append(images, scores)
        logger.info(
            "iteration %d: %d queries so far, best %.4f", self.state.iteration, self.n_queries, best
        )

    def _log_diagnostics(
        self, proposal: Proposal, scores: np.ndarray, timings: dict[str, float]
    ) -> None:
        """One row per round: timings, surrogate diagnostics, predictive log likelihood."""
        self.state.diagnostics.append(
            {
                "iteration": self.state.iteration,
                "queries": self.n_queries,
                **timings,
                **proposal.diagnostics,
                "oracle_evaluations": proposal.oracle_evaluations,
                "predictive_log_likelihood": predictive_log_likelihood(
                    scores, proposal.predicted_mean, proposal.predicted_var
                ),
            }
        )

    def _append(self, images: np.ndarray, scores: np.ndarray) -> None:
        """Add the scored queries to the training data (FB replaces the oldest data instead)."""
        new_images, new_scores = to_uint8(images), torch.as_tensor(scores, dtype=torch.float64)
        data_images, data_scores = self.state.data_images, self.state.data_scores
        if WEIGHTINGS.traits(self.settings.weighting.type).replaces_data:
            keep = torch.as_tensor(
                fb_keep_mask(
                    np.concatenate([data_scores.numpy(), scores]),
                    self.settings.weighting.quantile,
                )[len(data_scores) :]
            )
            new_images, new_scores = new_images[keep], new_scores[keep]
            data_images, data_scores = (
                data_images[len(new_scores) :],
                data_scores[len(new_scores) :],
            )
        self.state.data_images = torch.cat([data_images, new_images])
        self.state.data_scores = torch.cat([data_scores, new_scores])

    def _snapshot(self, t: int) -> None:
        grid = latent_grid(self.settings.snapshot.bounds, self.settings.snapshot.grid_len)
        with torch.no_grad():
            z = torch.as_tensor(grid, dtype=torch.float32, device=self.device)
            images = self.model.decode(z).cpu().numpy()
        self.state.snapshots.append(to_uint8(images))
        self.state.snapshot_iterations.append(t)

    def write_outputs(self, out_dir: Path, info: dict[str, Any]) -> None:
        """Write the run's files (:func:`lso.core.runfiles.write_run`); drop the state."""
        summary = {
            **info,
            "wall_seconds": self.state.elapsed,
            "n_queries": self.n_queries,
            "n_retrainings": self.state.n_retrainings,
            "oracle_evaluations": self.state.oracle_evaluations,
            "recentering_evaluations": self.state.recentering_evaluations,
            "budget_spent": self.n_queries == self.settings.budget,
            "device": str(self.device),
            "settings": _as_json(self.settings),
        }
        write_run(out_dir, self.state.rows, self.state.diagnostics, self._arrays(), summary)
        self.state_path.unlink(missing_ok=True)

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "images": (
                torch.stack(self.state.images).numpy()
                if self.state.images
                else np.zeros((0, *self.model.image_shape), np.uint8)
            ),
            "latents": self._latent_array(),
            "scores": np.asarray([r["score"] for r in self.state.rows], dtype=np.float64),
            "iterations": np.asarray([r["iteration"] for r in self.state.rows], dtype=np.int64),
        }
        if self.settings.snapshot is not None and self.state.snapshots:
            arrays["snapshot_grid"] = latent_grid(
                self.settings.snapshot.bounds, self.settings.snapshot.grid_len
            )
            arrays["snapshot_images"] = np.stack([s.numpy() for s in self.state.snapshots])
            arrays["snapshot_iterations"] = np.asarray(self.state.snapshot_iterations, np.int64)
        return arrays

    def _query_latents(self) -> np.ndarray:
        """The latent points queried so far, (n, latent_dim) float64."""
        return np.asarray(self.state.latents, dtype=np.float64).reshape(-1, self.model.latent_dim)

    def _latent_array(self) -> np.ndarray:
        """The queried latent points for the run files: integers for code grids."""
        latents = self._query_latents()
        return latents.astype(np.int64) if self.model.latent_kind == "codes" else latents


def _as_json(settings: Any) -> Any:
    """Nested settings tuples as JSON objects (``run.json`` records what the run used)."""
    if hasattr(settings, "_asdict"):
        return {key: _as_json(value) for key, value in settings._asdict().items()}
    return settings
