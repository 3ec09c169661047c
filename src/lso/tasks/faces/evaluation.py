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

from collections.abc import Callable
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
from lso.tasks.faces.reference import FaceReference
from lso.tasks.faces.robustness import agreement


def measure_reference(
    data: dict[str, np.ndarray],
    judge: SmileObjective,
    features: Callable[[np.ndarray], np.ndarray],
) -> FaceReference:
    """The judge's scores of the generative model's training faces and the features of the
    faces above the cap (:class:`FaceReference`)."""
    return FaceReference(
        training_judge=judge(generative_split(data)["train_images"]),
        reference_features=features(reference_images(data)),
    )


def judge_features(
    judge: SmileObjective, feature_network: str | None, device: torch.device
) -> Callable[[np.ndarray], np.ndarray]:
    """The features distances are measured in: the judge's (not the attacked black box's),
    or a user's feature network (``face_evaluation.feature_network``)."""
    network = load_feature_network(
        feature_network, _as_tensor_features(judge, device), device, "face_evaluation"
    )
    return lambda images: batched(network, images, device)


def judge_faces(
    arrays: RunArrays,
    reference: FaceReference,
    training_scores: np.ndarray,
    judge: SmileObjective,
    features: Callable[[np.ndarray], np.ndarray],
    spec: FaceEvaluationSettings,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The judge's score of every query, and the run's summary beside its objective's
    (``training_scores``: the black box's scores of the training faces): how
    the judge scores the black box's best queries and the best training face, how far the two
    predictors agree on the queries, and how far the queries are from smiling faces (FD and
    KID in the judge's features, or a user's feature network)."""
    judged = judge(arrays.images)
    table = pd.DataFrame(
        {"query": np.arange(1, len(judged) + 1), "objective": arrays.scores, "judge": judged}
    )
    training_max = float(training_scores.max())
    best = np.argsort(-arrays.scores, kind="stable")[: spec.n_best]
    agreed = agreement(arrays.scores, judged)
    queried = features(arrays.images)
    summary = {
        "judge_of_best": float(judged[best[0]]),
        "judge_top_mean": float(judged[best].mean()),
        "judge_max": float(judged.max()),
        "objective_top_mean": float(arrays.scores[best].mean()),
        "training_objective_max": training_max,
        "training_judge_max": float(reference.training_judge.max()),
        "above_training_max": float((arrays.scores > training_max).mean()),
        "queries_spearman_rho": agreed["spearman_rho"],
        "queries_mean_abs_difference": agreed["mean_abs_difference"],
        "frechet_distance": frechet_distance_between(queried, reference.reference_features),
        "kid_x1000": 1000 * kernel_inception_distance(queried, reference.reference_features),
        "n_best": spec.n_best,
    }
    return table, summary


def _as_tensor_features(predictor: SmileObjective, device: torch.device):
    return lambda images: torch.as_tensor(predictor.features(images.cpu().numpy()), device=device)
