"""Judging the faces runs: an independent judge and the distance to smiling faces.

A run maximises its own black box, so its best queries may be images that fool that one
network (adversarial faces) rather than faces that smile more. The judge is a second
predictor trained on the other half of the labelled faces; where the black box's best queries
beat every training face but the judge does not agree, the run exploited its black box. The
Fréchet distance of the queries to the faces above the training cap (the thesis's Smiling
3–5) says whether the queries look like real smiling faces at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from lso.config.types import FaceEvaluationSettings
from lso.core import metrics
from lso.core.features import batched, load_feature_network
from lso.core.runfiles import RunArrays
from lso.tasks.faces.dataset import generative_split, reference_images
from lso.tasks.faces.objective import SmileObjective


def judge_faces(
    arrays: RunArrays,
    data: dict[str, np.ndarray],
    black_box: SmileObjective,
    judge: SmileObjective,
    spec: FaceEvaluationSettings,
    device: torch.device,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The judge's score of every query, and the run's summary beside its objective's."""
    judged = judge(arrays.images)
    table = pd.DataFrame(
        {"query": np.arange(1, len(judged) + 1), "objective": arrays.scores, "judge": judged}
    )
    training = generative_split(data)["train_images"]
    training_max = float(black_box(training).max())
    best = np.argsort(-arrays.scores, kind="stable")[: spec.n_best]
    summary = {
        "judge_of_best": float(judged[best[0]]),
        "judge_top_mean": float(judged[best].mean()),
        "objective_top_mean": float(arrays.scores[best].mean()),
        "training_objective_max": training_max,
        "training_judge_max": float(judge(training).max()),
        "above_training_max": float((arrays.scores > training_max).mean()),
        "frechet_distance": _frechet_to_reference(
            arrays.images, reference_images(data), black_box, spec, device
        ),
        "n_best": spec.n_best,
    }
    return table, summary


def _frechet_to_reference(
    queries: np.ndarray,
    reference: np.ndarray,
    black_box: SmileObjective,
    spec: FaceEvaluationSettings,
    device: torch.device,
) -> float:
    """Fréchet distance of the queries to the reference faces in a feature space."""
    features = load_feature_network(
        spec.feature_network, _as_tensor_features(black_box, device), device, "face_evaluation"
    )
    return float(
        metrics.frechet_distance_between(
            batched(features, queries, device), batched(features, reference, device)
        )
    )


def _as_tensor_features(black_box: SmileObjective, device: torch.device):
    return lambda images: torch.as_tensor(black_box.features(images.cpu().numpy()), device=device)
