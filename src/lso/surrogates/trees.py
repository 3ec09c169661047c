"""A tree-ensemble surrogate over code grids, with an exploration bonus (for the VQ-VAE).

The thesis searched the VQ-VAE's 8x8 grid of codes (64 categorical variables of 256 values)
with ENTMOOT: a LightGBM ensemble (800 trees of depth 2) optimised as a Gurobi MIP, run with
``std_estimator=None``, i.e. the ensemble's mean alone, no exploration. ENTMOOT's own remedy
is a distance-based uncertainty: far from every training point, the trees' prediction is a
guess. Here the acquisition is

    mean(x) + kappa * std(y) * hamming(x) / d

where ``hamming(x)`` is the number of positions in which x differs from its nearest training
grid: zero at training points, growing by one per changed position. ``kappa = 0`` is the
thesis's pure-mean setting. Scores are kept as floats (the thesis cast them to integers).
"""

from __future__ import annotations

import numpy as np
import torch

DISTANCE_CHUNK = 512  # candidates per Hamming-distance block (chunk x n floats in memory)


class TreeEnsembleSurrogate:
    """LightGBM regression on categorical inputs plus a nearest-Hamming-distance bonus."""

    def __init__(
        self,
        n_estimators: int = 800,
        max_depth: int = 2,
        num_leaves: int = 5,
        min_child_samples: int = 20,
        learning_rate: float = 0.1,
        kappa: float = 1.0,
        seed: int = 0,
        device: object = None,
    ) -> None:
        del device  # LightGBM runs on the CPU; taken so every surrogate is built alike
        self.params = {
            "n_estimators": n_estimators,
            "max_depth": max_depth,
            "num_leaves": num_leaves,
            "min_child_samples": min_child_samples,
            "learning_rate": learning_rate,
            "random_state": seed,
            "deterministic": True,
            "force_row_wise": True,
            "n_jobs": 1,
            "verbose": -1,
        }
        self.kappa = float(kappa)
        self._model = None
        self._x: torch.Tensor | None = None
        self._y_std = 1.0

    def fit(self, x: np.ndarray, y: np.ndarray) -> TreeEnsembleSurrogate:
        """Fit to code grids ``x`` (n, d) of non-negative integers and scores ``y`` (n,)."""
        from lightgbm import LGBMRegressor  # only the discrete-latent runs need LightGBM

        x = np.asarray(x, dtype=np.int64)
        y = np.asarray(y, dtype=np.float64)
        self._model = LGBMRegressor(**self.params).fit(
            x, y, categorical_feature=list(range(x.shape[1]))
        )
        self._x = torch.as_tensor(x, dtype=torch.float32)
        self._y_std = float(y.std()) if len(y) > 1 and y.std() > 0 else 1.0
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The ensemble's mean prediction (n,)."""
        if self._model is None:
            raise RuntimeError("fit the surrogate before predicting")
        return self._model.predict(np.asarray(x, dtype=np.int64)).astype(np.float64)

    def hamming_to_data(self, x: np.ndarray) -> np.ndarray:
        """Positions in which each grid differs from its nearest training grid (n,)."""
        if self._x is None:
            raise RuntimeError("fit the surrogate before asking for distances")
        candidates = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        parts = [
            torch.cdist(part, self._x, p=0).min(dim=1).values
            for part in candidates.split(DISTANCE_CHUNK)
        ]
        return torch.cat(parts).round().numpy().astype(np.float64) if parts else np.zeros(0)

    def exploration_bonus(self, x: np.ndarray) -> np.ndarray:
        """kappa * std(y) * hamming / d: 0 at training points, linear in the distance."""
        d = self._x.shape[1] if self._x is not None else 1
        return self.kappa * self._y_std * self.hamming_to_data(x) / d

    def acquisition(self, x: np.ndarray) -> np.ndarray:
        """What the code optimiser maximises: mean plus exploration bonus."""
        return self.predict(x) + self.exploration_bonus(x)
