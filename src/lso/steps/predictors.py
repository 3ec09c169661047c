"""The predictor-training step (black box and judge), apart from the judging steps: training
is the costliest faces job, and it should rerun when the predictors' code changes, not when
the code that judges runs with them does."""

from __future__ import annotations

from lso.config.types import PredictorSettings
from lso.core.datafiles import save_arrays
from lso.models.checkpoint import save_checkpoint
from lso.runtime import job_device
from lso.tasks.faces.dataset import load_face_dataset
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
