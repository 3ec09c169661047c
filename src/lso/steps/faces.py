"""The faces' judging steps: training the predictors (black box and judge), judging a run."""

from __future__ import annotations

from lso.config.types import FaceEvaluationSettings, PredictorSettings
from lso.core.datafiles import save_arrays
from lso.core.runfiles import load_run_arrays
from lso.models.checkpoint import save_checkpoint
from lso.runtime import job_device
from lso.tasks.faces.dataset import load_face_dataset
from lso.tasks.faces.evaluation import judge_faces
from lso.tasks.faces.objective import SmileObjective
from lso.tasks.faces.predictor import calibration_arrays, fit_predictor, predictor_metrics
from lso.utils import PathLike, atomic_path, write_json


def train_predictor(
    dataset_path: PathLike,
    spec: PredictorSettings,
    role: str,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    metrics: PathLike,
    calibration: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """Train and calibrate the ``role`` predictor; write it, its log, metrics and the data of
    its reliability figure."""
    data = load_face_dataset(dataset_path)
    trained = fit_predictor(data, spec, role, job_device(device_name, precision))
    save_checkpoint(trained.model, checkpoint)
    with atomic_path(train_log) as tmp:
        trained.log.to_csv(tmp, index=False)
    temperature = float(trained.model.temperature)  # as stored: metrics describe the checkpoint
    write_json(
        metrics,
        predictor_metrics(trained.logits, trained.labels, temperature, role, trained.n_train),
    )
    save_arrays(calibration, calibration_arrays(trained.logits, trained.labels, temperature))


def evaluate_faces(
    run_dir: PathLike,
    dataset_path: PathLike,
    black_box_checkpoint: PathLike,
    judge_checkpoint: PathLike,
    spec: FaceEvaluationSettings,
    *,
    per_query: PathLike,
    summary: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """The judge's score of every query of a run, and the run's summary (``evaluation.json``)."""
    device = job_device(device_name, precision)
    black_box = SmileObjective.load(black_box_checkpoint, device)
    judge = SmileObjective.load(judge_checkpoint, device)
    arrays = load_run_arrays(run_dir)
    table, judged = judge_faces(
        arrays, load_face_dataset(dataset_path), black_box, judge, spec, device
    )
    with atomic_path(per_query) as tmp:
        table.to_csv(tmp, index=False)
    write_json(summary, judged)
