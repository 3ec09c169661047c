"""The score_data step: a black box's scores of a data set's training images, computed once
for every run of the data set (scoring thousands of faces cost each faces run a sixth of its
time). It imports no optimisation code, so changing the loop does not rescore the data."""

from __future__ import annotations

from lso.core.datafiles import save_arrays
from lso.core.objectives import build_objective, score_in_chunks, training_data
from lso.runtime import job_device
from lso.utils import PathLike


def score_data(
    dataset_path: PathLike,
    objective_name: str,
    predictor: PathLike,
    *,
    output: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """Write the objective's score of every training image (``train_scores``)."""
    objective = build_objective(objective_name, predictor, job_device(device_name, precision))
    images = training_data(dataset_path, objective_name)["train_images"]
    save_arrays(output, {"train_scores": score_in_chunks(objective, images)})
