"""The optimize step: one weighted-retraining run (experiment x seed), resumable.

It imports neither matplotlib nor BoTorch itself: the modules the experiment chooses by name
(model, optimiser, surrogate, constraint, objective, data family) are loaded through their
registries only when chosen, and only they are among the job's code inputs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lso.config.types import RunSettings
from lso.core.datafiles import read_training_scores
from lso.core.loop import WeightedRetrainingRun
from lso.core.objectives import Objective, build_objective, score_in_chunks, training_data
from lso.core.state import state_path_for
from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint
from lso.runtime import job_device
from lso.utils import InputError, PathLike


def file_digest(path: PathLike) -> str:
    """SHA-256 of a file, part of a run's identity for resuming."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def optimise(
    checkpoint: PathLike,
    dataset_path: PathLike,
    settings: RunSettings,
    seed: int,
    *,
    out_dir: PathLike,
    experiment: str,
    predictor: PathLike | None = None,
    data_scores: PathLike | None = None,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """Run one weighted-retraining optimisation (experiment x seed), resuming if it can.

    ``predictor`` is the black-box predictor's checkpoint, for objectives that need one;
    ``data_scores`` its scores of the training images (``lso.steps.scores.score_data``),
    shared by every run of the data set.
    """
    device = job_device(device_name, precision)
    inputs = [checkpoint, dataset_path, *(path for path in (predictor, data_scores) if path)]
    fingerprint = hashlib.sha256(
        json.dumps([repr(settings), seed, *map(file_digest, inputs)]).encode()
    ).hexdigest()
    objective = build_objective(settings.objective, predictor, device)
    run = WeightedRetrainingRun(
        load_checkpoint(checkpoint, device, expected=LatentModel),
        run_data(dataset_path, settings.objective, objective, data_scores),
        settings,
        objective,
        seed=seed,
        device=device,
        state_path=state_path_for(out_dir),
        fingerprint=fingerprint,
    )
    run.run()
    if run.n_queries == 0:
        raise InputError(
            f"experiment {experiment!r}, seed {seed}: the optimiser found no valid new point "
            f"in any iteration; is constraint.threshold ({settings.constraint.threshold}) "
            "too strict for this model's latent space?"
        )
    run.write_outputs(Path(out_dir), {"experiment": experiment, "seed": seed})


def run_data(
    dataset_path: PathLike, name: str, objective: Objective, scores: PathLike | None = None
) -> dict:
    """The images a run starts from, with their black-box scores.

    Digit files store their thickness. Faces are scored by the run's own black box, so data
    and queries share one score scale (the thesis ranked integer labels for the data against
    predictor expectations for the queries; the ranks used for weighting then mixed two
    scales): read from ``scores`` (``lso.steps.scores.score_data``), or computed here
    without it.
    """
    data = training_data(dataset_path, name)
    if "train_scores" in data:
        return data
    if scores is None:
        data["train_scores"] = score_in_chunks(objective, data["train_images"])
        return data
    data["train_scores"] = read_training_scores(scores, len(data["train_images"]), dataset_path)
    return data
