"""The pipeline's data, model and optimisation steps, as functions from files to files.

Workflow scripts only unpack ``snakemake.input/params/output`` and call one of these; keeping
the steps here makes them importable and testable without Snakemake. Tables and figures of
finished runs are made by :mod:`lso.reporting`, which imports no torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch

from lso import plots
from lso.data.mnist import (
    load_dataset,
    load_mnist,
    prepare_all_digits,
    prepare_digit_dataset,
    save_dataset,
    save_labelled_dataset,
)
from lso.loop import WeightedRetrainingRun, state_path_for
from lso.models import build_model, load_checkpoint
from lso.objectives import get_objective
from lso.optimizers.grid import latent_grid
from lso.settings import DatasetSettings, ModelSettings, RunSettings
from lso.training import FitSettings, fit_and_save
from lso.utils import InputError, PathLike, resolve_device, seed_everything

logger = logging.getLogger(__name__)


def prepare_data(spec: DatasetSettings, output: PathLike) -> None:
    """Read the raw MNIST source named in ``spec`` and write the prepared data set.

    ``digit: null`` keeps every digit with its label (for the classifier and conditional
    generation); otherwise one digit with its thickness.
    """
    images, labels = load_mnist(spec.source, spec.path)
    if spec.digit is None:
        arrays = prepare_all_digits(
            images,
            labels,
            binarize_threshold=spec.binarize_threshold,
            val_fraction=spec.val_fraction,
            seed=spec.seed,
        )
        logger.info(
            "prepared %d training and %d validation digits of all classes",
            len(arrays["train_labels"]),
            len(arrays["val_labels"]),
        )
        save_labelled_dataset(output, arrays)
        return
    arrays = prepare_digit_dataset(
        images,
        labels,
        digit=spec.digit,
        binarize_threshold=spec.binarize_threshold,
        val_fraction=spec.val_fraction,
        holdout_top_fraction=spec.holdout_top_fraction,
        seed=spec.seed,
    )
    logger.info(
        "prepared %d training and %d validation images of digit %d (max thickness %.4f)",
        len(arrays["train_scores"]),
        len(arrays["val_scores"]),
        spec.digit,
        float(arrays["train_scores"].max()),
    )
    save_dataset(output, arrays)


def pretrain(
    dataset_path: PathLike,
    spec: ModelSettings,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    figure: PathLike,
    device_name: str = "auto",
) -> None:
    """Train a model from scratch on the prepared data; write checkpoint, loss log, figure."""
    device = resolve_device(device_name)
    seed_everything(spec.seed)
    data = load_dataset(dataset_path)
    model = build_model(spec.type, {"latent_dim": spec.latent_dim, **spec.hparams})
    model.to(device)
    train = torch.as_tensor(data["train_images"], device=device)
    val = torch.as_tensor(data["val_images"], device=device)
    settings = FitSettings(
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        lr=spec.lr,
        use_plateau_scheduler=True,
    )
    fit_and_save(
        model,
        train,
        settings,
        seed=spec.seed,
        checkpoint=checkpoint,
        train_log=train_log,
        val_images=val,
        description="pretrain",
    )
    plots.save_figure(_model_figure(model, val, device), figure)


@torch.no_grad()
def _model_figure(model: Any, val: torch.Tensor, device: torch.device) -> Any:
    """Reconstructions of validation digits, and for 2-D latents the decoded manifold."""
    originals = val[:10]
    means, _ = model.encode(originals)
    reconstructions = model.decode(means).cpu().numpy()
    if model.latent_dim != 2:
        return plots.plot_reconstructions(originals.cpu().numpy(), reconstructions)
    grid = latent_grid(4.0, 20)
    decoded = model.decode(torch.as_tensor(grid, dtype=torch.float32, device=device))
    return plots.plot_model_overview(
        originals.cpu().numpy(), reconstructions, decoded.cpu().numpy(), grid_len=20, bounds=4.0
    )


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
