"""Judging the faces runs: an independent judge and the distance to smiling faces.

A run maximises its own black box, so its best queries may be images that fool that one
network (adversarial faces) rather than faces that smile more. The judge is a second
predictor trained on the other half of the labelled faces; where the black box's best queries
beat every training face but the judge does not agree, the run exploited its black box. The
distance of the queries to the faces above the training cap (the thesis's Smiling 3–5),
measured in the judge's features (not the attacked black box's), says whether the queries
look like real smiling faces at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from lso.config.types import FaceEvaluationSettings
from lso.core.features import batched, load_feature_network
from lso.core.metrics import frechet_distance_between, kernel_inception_distance
from lso.core.runfiles import RunArrays
from lso.tasks.faces.dataset import generative_split, reference_images
from lso.tasks.faces.objective import SmileObjective
from lso.tasks.faces.robustness import agreement


def judge_faces(
    arrays: RunArrays,
    data: dict[str, np.ndarray],
    black_box: SmileObjective,
    judge: SmileObjective,
    spec: FaceEvaluationSettings,
    device: torch.device,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The judge's score of every query, and the run's summary beside its objective's: how
    the judge scores the black box's best queries and the best training face, how far the two
    predictors agree on the queries, and how far the queries are from smiling faces (FD and
    KID in the judge's features, or a user's feature network)."""
    judged = judge(arrays.images)
    table = pd.DataFrame(
        {"query": np.arange(1, len(judged) + 1), "objective": arrays.scores, "judge": judged}
    )
    training = generative_split(data)["train_images"]
    training_max = float(black_box(training).max())
    best = np.argsort(-arrays.scores, kind="stable")[: spec.n_best]
    agreed = agreement(arrays.scores, judged)
    summary = {
        "judge_of_best": float(judged[best[0]]),
        "judge_top_mean": float(judged[best].mean()),
        "judge_max": float(judged.max()),
        "objective_top_mean": float(arrays.scores[best].mean()),
        "training_objective_max": training_max,
        "training_judge_max": float(judge(training).max()),
        "above_training_max": float((arrays.scores > training_max).mean()),
        "queries_spearman_rho": agreed["spearman_rho"],
        "queries_mean_abs_difference": agreed["mean_abs_difference"],
        **_distances_to_reference(arrays.images, reference_images(data), judge, spec, device),
        "n_best": spec.n_best,
    }
    return table, summary


def _distances_to_reference(
    queries: np.ndarray,
    reference: np.ndarray,
    judge: SmileObjective,
    spec: FaceEvaluationSettings,
    device: torch.device,
) -> dict[str, float]:
    """FD and KID of the queries to the faces above the cap, in the judge's features."""
    features = load_feature_network(
        spec.feature_network, _as_tensor_features(judge, device), device, "face_evaluation"
    )
    queried, smiling = batched(features, queries, device), batched(features, reference, device)
    return {
        "frechet_distance": frechet_distance_between(queried, smiling),
        "kid_x1000": 1000 * kernel_inception_distance(queried, smiling),
    }


def _as_tensor_features(predictor: SmileObjective, device: torch.device):
    return lambda images: torch.as_tensor(predictor.features(images.cpu().numpy()), device=device)
