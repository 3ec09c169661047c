"""Do the predictors read smiles? Their scores under degradations, and how far they agree.

The robustness table degrades held-out faces in each way a generator departs from a drawing
(blur, noise, palette, brightness, contrast, shift, zoom), at two strengths, and reports per
predictor the mean absolute change of the expected smile level against the clean face, and
the expected calibration error and accuracy on the degraded faces (their labels do not
change: a blurred smile is still the same smile). The agreement of black box and judge is
Spearman's rank correlation and the mean absolute difference of their expected levels, on
any set of faces: validation faces, a generator's samples, a run's queries.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from lso.tasks.faces.augment import add_noise, gaussian_blur, move, recolour
from lso.tasks.faces.calibration import calibration_metrics, expected_level
from lso.tasks.faces.objective import SmileObjective

Degrade = Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]


def _recoloured(images: torch.Tensor, gains, offsets=(0.0, 0.0, 0.0), contrast=1.0) -> torch.Tensor:
    n = len(images)
    return recolour(
        images,
        torch.tensor(gains, dtype=images.dtype).expand(n, 3),
        torch.tensor(offsets, dtype=images.dtype).expand(n, 3),
        torch.full((n,), contrast, dtype=images.dtype),
    )


def _moved(images: torch.Tensor, shift: float, zoom: float) -> torch.Tensor:
    n = len(images)
    return move(images, torch.tensor([shift, shift]).expand(n, 2), torch.full((n,), zoom))


# name -> (how to degrade at a strength, the two strengths reported)
DEGRADATIONS: dict[str, tuple[Degrade, tuple[float, float]]] = {
    "blur (sigma px)": (lambda x, s, g: gaussian_blur(x, s), (1.5, 3.0)),
    "noise (std)": (lambda x, s, g: add_noise(x, s, g), (0.04, 0.08)),
    "palette (gain)": (lambda x, s, g: _recoloured(x, (1 + s, 1.0, 1 - s)), (0.15, 0.3)),
    "brightness (offset)": (lambda x, s, g: _recoloured(x, (1, 1, 1), (s, s, s)), (0.1, 0.2)),
    "contrast (factor)": (lambda x, s, g: _recoloured(x, (1, 1, 1), contrast=s), (0.75, 0.5)),
    "shift (px)": (lambda x, s, g: _moved(x, s, 1.0), (2.0, 4.0)),
    "zoom (factor)": (lambda x, s, g: _moved(x, 0.0, s), (1.1, 1.2)),
}


def robustness_table(
    predictors: dict[str, SmileObjective],
    images: np.ndarray,
    labels: np.ndarray,
    n_bins: int = 15,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per predictor, degradation and strength (and the clean faces). Each condition's
    logits are computed once: its scores and calibration both come from them."""
    rows = []
    labels_t = torch.as_tensor(labels).long()
    for name, predictor in predictors.items():
        clean = torch.as_tensor(predictor.logits(images))
        rows.append(_row(name, "clean", 0.0, clean, clean, predictor.temperature, labels_t, n_bins))
        for degradation, (degrade, strengths) in DEGRADATIONS.items():
            for strength in strengths:
                generator = torch.Generator().manual_seed(seed)
                degraded = degrade(torch.as_tensor(images), strength, generator).numpy()
                logits = torch.as_tensor(predictor.logits(degraded))
                rows.append(
                    _row(
                        name,
                        degradation,
                        strength,
                        clean,
                        logits,
                        predictor.temperature,
                        labels_t,
                        n_bins,
                    )
                )
    return pd.DataFrame(rows)


def _row(
    predictor_name: str,
    degradation: str,
    strength: float,
    clean_logits: torch.Tensor,
    logits: torch.Tensor,
    temperature: float,
    labels: torch.Tensor,
    n_bins: int,
) -> dict[str, object]:
    clean = expected_level(clean_logits, temperature).numpy()
    scores = expected_level(logits, temperature).numpy()
    metrics = calibration_metrics(logits, labels, temperature, n_bins=n_bins)
    return {
        "predictor": predictor_name,
        "degradation": degradation,
        "strength": strength,
        "mean_abs_change": float(np.mean(np.abs(scores - clean))),
        "mean_change": float(np.mean(scores - clean)),
        "ece": metrics["ece"],
        "accuracy": metrics["accuracy"],
        "n": len(labels),
    }


def agreement(black_box: np.ndarray, judge: np.ndarray) -> dict[str, float]:
    """Spearman's ρ and the mean absolute difference of two predictors' scores of one set."""
    black_box, judge = np.asarray(black_box, np.float64), np.asarray(judge, np.float64)
    rho = spearmanr(black_box, judge).statistic if len(black_box) > 2 else float("nan")
    return {
        "spearman_rho": float(rho),
        "mean_abs_difference": float(np.mean(np.abs(black_box - judge))),
        "black_box_mean": float(black_box.mean()),
        "judge_mean": float(judge.mean()),
        "n": len(black_box),
    }
