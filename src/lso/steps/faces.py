"""The faces' judging steps: testing the predictors, judging the data set once, a pretrained
model and each run (training the predictors is :mod:`lso.steps.predictors`)."""

from __future__ import annotations

from pathlib import Path

from lso.config.types import FaceEvaluationSettings
from lso.core.datafiles import read_training_scores
from lso.core.runfiles import load_run_arrays
from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint
from lso.runtime import job_device
from lso.tasks.faces.dataset import generative_split, load_face_dataset, validation_faces
from lso.tasks.faces.evaluation import judge_faces, judge_features, measure_reference
from lso.tasks.faces.objective import SmileObjective
from lso.tasks.faces.quality import model_quality
from lso.tasks.faces.reference import FaceReference
from lso.tasks.faces.robustness import agreement, robustness_table
from lso.utils import PathLike, atomic_path, write_json


def score_faces(
    dataset_path: PathLike,
    judge_checkpoint: PathLike,
    feature_network: str | None,
    *,
    output: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """Judge the training and reference faces once (:class:`FaceReference`), for every run
    of the data set: rescoring thousands of faces per run cost more than judging it."""
    device = job_device(device_name, precision)
    judge = SmileObjective.load(judge_checkpoint, device)
    measure_reference(
        load_face_dataset(dataset_path),
        judge,
        judge_features(judge, feature_network, device),
    ).save(output)


def evaluate_faces(
    run_dir: PathLike,
    reference_path: PathLike,
    scores_path: PathLike,
    judge_checkpoint: PathLike,
    spec: FaceEvaluationSettings,
    *,
    per_query: PathLike,
    summary: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """The judge's score of every query of a run, and the run's summary (``evaluation.json``);
    ``scores_path`` holds the black box's scores of the training faces (``score_data``)."""
    device = job_device(device_name, precision)
    judge = SmileObjective.load(judge_checkpoint, device)
    reference = FaceReference.load(reference_path)
    training_scores = read_training_scores(
        scores_path, len(reference.training_judge), reference_path
    )
    table, judged = judge_faces(
        load_run_arrays(run_dir),
        reference,
        training_scores,
        judge,
        judge_features(judge, spec.feature_network, device),
        spec,
    )
    with atomic_path(per_query) as tmp:
        table.to_csv(tmp, index=False)
    write_json(summary, judged)


def evaluate_predictors(
    dataset_path: PathLike,
    black_box_checkpoint: PathLike,
    judge_checkpoint: PathLike,
    *,
    robustness: PathLike,
    agreement_path: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """The robustness table of both predictors, and their agreement, on every held-out face
    (the validation faces of both halves: neither predictor trained on any of them)."""
    device = job_device(device_name, precision)
    predictors = {
        "black box": SmileObjective.load(black_box_checkpoint, device),
        "judge": SmileObjective.load(judge_checkpoint, device),
    }
    data = load_face_dataset(dataset_path)
    images, levels = validation_faces(data)
    with atomic_path(robustness) as tmp:
        robustness_table(predictors, images, levels).to_csv(tmp, index=False)
    agreed = agreement(predictors["black box"](images), predictors["judge"](images))
    write_json(agreement_path, {"faces": "validation faces", **agreed})


def evaluate_model(
    checkpoint: PathLike,
    dataset_path: PathLike,
    black_box_checkpoint: PathLike,
    judge_checkpoint: PathLike,
    *,
    output: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """How well a pretrained faces model draws faces (:func:`model_quality`), as JSON."""
    device = job_device(device_name, precision)
    model = load_checkpoint(checkpoint, device, expected=LatentModel)
    held_out = generative_split(load_face_dataset(dataset_path))["val_images"]
    quality = model_quality(
        model,
        held_out,
        SmileObjective.load(judge_checkpoint, device),
        SmileObjective.load(black_box_checkpoint, device),
        device,
    )
    write_json(output, {"model": Path(checkpoint).parent.name, **quality})
