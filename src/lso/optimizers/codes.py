"""Bayesian optimisation over the VQ-VAE's code grids (``optimizer.type: codes``).

Each call encodes the current data to code grids, picks the surrogate's training set (the
n best + n random, as the other optimisers), fits a tree ensemble with its exploration bonus
(:mod:`lso.surrogates.trees`) or a GP with a categorical kernel
(:mod:`lso.surrogates.categorical_gp`), and maximises that surrogate's acquisition over grids
with :func:`lso.optimizers.code_search.optimise_codes`. No grid already in the data or queried
before is proposed. The black box is never called here.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from lso.config.types import OptimizerSettings
from lso.constraints.base import encode_dataset
from lso.models.base import LatentModel, decode_queries
from lso.optimizers.base import Proposal, SearchContext, image_keys
from lso.optimizers.code_search import optimise_codes
from lso.surrogates.build import build_surrogate, select_training_set


class CodeOptimizer:
    """Tree-ensemble or categorical-GP BO over grids of code indices."""

    def __init__(self, settings: OptimizerSettings) -> None:
        self.settings = settings

    def state_dict(self) -> dict[str, Any]:
        """Nothing carries over between calls: every surrogate is fitted afresh."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        del state

    def propose(self, model: LatentModel, n: int, context: SearchContext) -> Proposal:
        rng = np.random.default_rng(context.seed)
        start = time.perf_counter()
        codes = encode_dataset(model, context.data_images)[0].cpu().numpy().astype(np.int64)
        x, y = select_training_set(
            codes, context.data_scores, self.settings.n_best, self.settings.n_random, rng
        )
        surrogate = self._surrogate(context.seed).fit(x, y)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        queried = {row.tobytes() for row in context.query_latents.astype(np.int64)}
        grids = optimise_codes(
            surrogate.acquisition,
            codes,
            n,
            model.codebook_size,
            rng,
            exclude=queried,
            pool_size=self.settings.n_candidates,
            n_mutations=self.settings.n_mutations,
            n_starts=self.settings.n_starts,
            max_steps=self.settings.maxiter,
        )
        acquisition_seconds = time.perf_counter() - start
        images = decode_queries(model, grids.astype(np.float64), context.device)
        new = np.array([key not in context.known for key in image_keys(images)], dtype=bool)
        grids, images = grids[new], images[new]
        mean, var = self._prediction(surrogate, grids)
        return Proposal(
            latents=grids.astype(np.float64),
            images=images,
            log_density=np.full(len(grids), np.nan),
            diagnostics={
                "surrogate_fit_seconds": fit_seconds,
                "acquisition_seconds": acquisition_seconds,
                "n_train": float(len(y)),
            },
            predicted_mean=mean,
            predicted_var=var,
        )

    def _surrogate(self, seed: int) -> Any:
        """The configured code surrogate (trees or categorical GP), loaded by name."""
        return build_surrogate(self.settings.surrogate, seed=seed)

    @staticmethod
    def _prediction(surrogate: Any, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The surrogate's prediction at the proposals (the trees have no variance)."""
        if len(grids) == 0:
            return np.zeros(0), None
        prediction = surrogate.predict(grids)
        if isinstance(prediction, tuple):
            return prediction
        return prediction, None
