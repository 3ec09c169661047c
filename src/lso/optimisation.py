"""The optimize step: one weighted-retraining run (experiment x seed), resumable.

It imports neither matplotlib nor BoTorch itself: the optimiser's module is loaded by
:func:`lso.optimizers.build_optimizer` only when the experiment chooses it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lso.data.mnist import load_dataset
from lso.loop import WeightedRetrainingRun, state_path_for
from lso.models import load_checkpoint
from lso.objectives import get_objective
from lso.settings import RunSettings
from lso.utils import InputError, PathLike, resolve_device


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
    device_name: str = "auto",
) -> None:
    """Run one weighted-retraining optimisation (experiment x seed), resuming if it can."""
    device = resolve_device(device_name)
    fingerprint = hashlib.sha256(
        json.dumps(
            [repr(settings), seed, file_digest(checkpoint), file_digest(dataset_path)]
        ).encode()
    ).hexdigest()
    run = WeightedRetrainingRun(
        load_checkpoint(checkpoint, device),
        load_dataset(dataset_path),
        settings,
        get_objective(settings.objective),
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
