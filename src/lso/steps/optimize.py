"""The optimize step: one weighted-retraining run (experiment x seed), resumable.

It imports neither matplotlib nor BoTorch itself: the modules the experiment chooses by name
(model, optimiser, surrogate, constraint, objective, data family) are loaded through their
registries only when chosen, and only they are among the job's code inputs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from lso.config.types import RunSettings
from lso.core.loop import WeightedRetrainingRun
from lso.core.objectives import Objective, build_objective
from lso.core.registry import OBJECTIVES
from lso.core.state import state_path_for
from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint
from lso.runtime import job_device
from lso.tasks.registry import TASKS
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
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """Run one weighted-retraining optimisation (experiment x seed), resuming if it can.

    ``predictor`` is the black-box predictor's checkpoint, for objectives that need one.
    """
    device = job_device(device_name, precision)
    inputs = [checkpoint, dataset_path, *([predictor] if predictor else [])]
    fingerprint = hashlib.sha256(
        json.dumps([repr(settings), seed, *map(file_digest, inputs)]).encode()
    ).hexdigest()
    objective = build_objective(settings.objective, predictor, device)
    run = WeightedRetrainingRun(
        load_checkpoint(checkpoint, device, expected=LatentModel),
        run_data(dataset_path, settings.objective, objective),
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


def run_data(dataset_path: PathLike, name: str, objective: Objective) -> dict:
    """The images a run starts from, with their black-box scores.

    Digit files store their thickness. Faces are scored here by the run's own black box, so
    data and queries share one score scale (the thesis ranked integer labels for the data
    against predictor expectations for the queries; the ranks used for weighting then mixed
    two scales).
    """
    data = TASKS.load(OBJECTIVES.traits(name).family)(dataset_path, compact=True)
    if "train_scores" not in data:
        data["train_scores"] = score_in_chunks(objective, data["train_images"])
    return data


def score_in_chunks(objective: Objective, images: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """The objective of 8-bit images, converted to [0, 1] a chunk at a time (no float copy of
    all of them). A chunk is a multiple of every scoring batch (256 on the CPU, 2,048 on a
    GPU), so the objective sees the batches it would see on the whole array."""
    if images.dtype != np.uint8:
        return objective(images)
    if len(images) == 0:
        return objective(images.astype(np.float32))
    parts = [
        objective(images[start : start + chunk].astype(np.float32) / 255.0)
        for start in range(0, len(images), chunk)
    ]
    return np.concatenate(parts)
