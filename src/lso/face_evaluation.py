"""Judging the faces runs: an independent judge, the Fréchet distance, the headline figure.

A run maximises its own black box, so its best queries may be images that fool that one
network (adversarial faces) rather than faces that smile more. The judge is a second
predictor trained on the other half of the labelled faces; where the black box's best queries
beat every training face but the judge does not agree, the run exploited its black box. The
Fréchet distance of the queries to the faces above the training cap (the thesis's Smiling
3–5) says whether the queries look like real smiling faces at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lso import metrics, plots
from lso.data.face_dataset import (
    cap_level_images,
    generative_split,
    load_face_dataset,
    reference_images,
)
from lso.evaluation import load_feature_network, write_json
from lso.predictor import SmileObjective
from lso.results import load_run_arrays
from lso.settings import FaceEvaluationSettings
from lso.utils import PathLike, atomic_path, resolve_device

HEADLINE_TILES = 9  # 3 x 3 faces each side, as the thesis's figure


def evaluate_face_run(
    run_dir: PathLike,
    dataset_path: PathLike,
    black_box_checkpoint: PathLike,
    judge_checkpoint: PathLike,
    spec: FaceEvaluationSettings,
    *,
    per_query: PathLike,
    summary: PathLike,
    device_name: str = "auto",
) -> None:
    """The judge's score of every query, and the run's summary beside its objective's."""
    device = resolve_device(device_name)
    black_box = SmileObjective.load(black_box_checkpoint, device)
    judge = SmileObjective.load(judge_checkpoint, device)
    arrays = load_run_arrays(run_dir)
    judged = judge(arrays.images)
    with atomic_path(per_query) as tmp:
        pd.DataFrame(
            {"query": np.arange(1, len(judged) + 1), "objective": arrays.scores, "judge": judged}
        ).to_csv(tmp, index=False)
    data = load_face_dataset(dataset_path)
    training = generative_split(data)["train_images"]
    training_max = float(black_box(training).max())
    best = np.argsort(-arrays.scores, kind="stable")[: spec.n_best]
    write_json(
        summary,
        {
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
        },
    )


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


def batched(features, images: np.ndarray, device: torch.device, size: int = 256) -> np.ndarray:
    """``features`` of the images, ``size`` at a time, as float64 (n, ...)."""
    parts = [
        features(torch.as_tensor(images[start : start + size], device=device)).cpu().numpy()
        for start in range(0, len(images), size)
    ]
    return np.concatenate(parts).astype(np.float64)


def plot_headline(
    run_dirs: list[PathLike],
    dataset_path: PathLike,
    black_box_checkpoint: PathLike,
    judge_checkpoint: PathLike,
    title: str,
    output: PathLike,
    device_name: str = "auto",
) -> None:
    """The thesis's headline figure: training faces at the cap level beside the best queries.

    Left, the 9 training faces at the cap level (the best the model was shown) that the black
    box scores highest; right, the 9 best distinct queries over all seeds. Each face is titled
    with the black box's score and, after the slash, the judge's.
    """
    device = resolve_device(device_name)
    black_box = SmileObjective.load(black_box_checkpoint, device)
    judge = SmileObjective.load(judge_checkpoint, device)
    data = load_face_dataset(dataset_path)
    cap_faces = cap_level_images(data)
    cap_scores = black_box(cap_faces)
    cap_best = np.argsort(-cap_scores, kind="stable")[:HEADLINE_TILES]
    runs = [load_run_arrays(run_dir) for run_dir in run_dirs]
    queries = np.concatenate([run.images for run in runs])
    scores = np.concatenate([run.scores for run in runs])
    chosen = plots.best_unique(queries, scores, HEADLINE_TILES)
    fig = plots.plot_side_by_side(
        (cap_faces[cap_best], _titles(cap_scores[cap_best], judge(cap_faces[cap_best]))),
        (queries[chosen], _titles(scores[chosen], judge(queries[chosen]))),
        (f"training faces at level {int(data['max_level'])}", "best queries"),
        title,
    )
    plots.save_figure(fig, Path(output))


def _titles(objective: np.ndarray, judge: np.ndarray) -> list[str]:
    return [f"{o:.2f} / {j:.2f}" for o, j in zip(objective, judge, strict=True)]
