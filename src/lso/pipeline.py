"""The pipeline's steps as functions from files to files, one per Snakemake rule.

Workflow scripts only unpack ``snakemake.input/params/output`` and call one of these; keeping
the steps here makes them importable and testable without Snakemake.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
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
from lso.loop import LoopSettings, WeightedRetrainingRun, state_path_for
from lso.models import build_model, load_checkpoint
from lso.objectives import get_objective
from lso.optimizers.grid import latent_grid
from lso.results import load_run, mean_std_table, summarise_runs
from lso.training import FitSettings, fit_and_save
from lso.utils import InputError, PathLike, atomic_path, resolve_device, seed_everything

logger = logging.getLogger(__name__)


def prepare_data(spec: dict[str, Any], output: PathLike) -> None:
    """Read the raw MNIST source named in ``spec`` and write the prepared data set.

    ``digit: null`` keeps every digit with its label (for the classifier and conditional
    generation); otherwise one digit with its thickness.
    """
    images, labels = load_mnist(spec["source"], spec.get("path"))
    if spec["digit"] is None:
        arrays = prepare_all_digits(
            images,
            labels,
            binarize_threshold=spec["binarize_threshold"],
            val_fraction=spec["val_fraction"],
            seed=spec["seed"],
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
        digit=spec["digit"],
        binarize_threshold=spec["binarize_threshold"],
        val_fraction=spec["val_fraction"],
        holdout_top_fraction=spec["holdout_top_fraction"],
        seed=spec["seed"],
    )
    logger.info(
        "prepared %d training and %d validation images of digit %d (max thickness %.4f)",
        len(arrays["train_scores"]),
        len(arrays["val_scores"]),
        spec["digit"],
        float(arrays["train_scores"].max()),
    )
    save_dataset(output, arrays)


def pretrain(
    dataset_path: PathLike,
    spec: dict[str, Any],
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    figure: PathLike,
    device_name: str = "auto",
) -> None:
    """Train a model from scratch on the prepared data; write checkpoint, loss log, figure."""
    device = resolve_device(device_name)
    seed_everything(spec["seed"])
    data = load_dataset(dataset_path)
    model = build_model(spec["type"], {"latent_dim": spec["latent_dim"], **spec["hparams"]})
    model.to(device)
    train = torch.as_tensor(data["train_images"], device=device)
    val = torch.as_tensor(data["val_images"], device=device)
    settings = FitSettings(
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        lr=spec["lr"],
        use_plateau_scheduler=True,
    )
    fit_and_save(
        model,
        train,
        settings,
        seed=spec["seed"],
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
    spec: dict[str, Any],
    seed: int,
    *,
    out_dir: PathLike,
    experiment: str,
    device_name: str = "auto",
) -> None:
    """Run one weighted-retraining optimisation (experiment x seed), resuming if it can."""
    device = resolve_device(device_name)
    settings = LoopSettings(
        budget=spec["budget"],
        retrain_every=float(spec["retrain_every"]),
        retrain_epochs=spec["retrain_epochs"],
        initial_retrain_epochs=spec["initial_retrain_epochs"],
        batch_size=spec["batch_size"],
        lr=spec["lr"],
        weighting=spec["weighting"],
        constraint=spec["constraint"],
        optimizer=spec["optimizer"],
        seed=seed,
        snapshot_grid_len=spec["snapshot_grid_len"],
        snapshot_bounds=spec["snapshot_bounds"],
    )
    fingerprint = hashlib.sha256(
        json.dumps(
            [repr(settings), spec["objective"], file_digest(checkpoint), file_digest(dataset_path)]
        ).encode()
    ).hexdigest()
    run = WeightedRetrainingRun(
        load_checkpoint(checkpoint, device),
        load_dataset(dataset_path),
        settings,
        get_objective(spec["objective"]),
        device=device,
        state_path=state_path_for(out_dir),
        fingerprint=fingerprint,
    )
    run.run()
    if run.n_queries == 0:
        raise InputError(
            f"experiment {experiment!r}, seed {seed}: the optimiser found no valid new point "
            f"in any iteration; is constraint.threshold ({spec['constraint'].get('threshold')}) "
            "too strict for this model's latent space?"
        )
    run.write_outputs(Path(out_dir), {"experiment": experiment, "seed": seed})


def summarise(
    run_dirs: list[PathLike], top_k: list[int], *, summary: PathLike, mean_std: PathLike
) -> None:
    """Write the per-run summary and the per-experiment mean ± std table.

    Runs judged by the classifier (``evaluation.json``) gain its validity and Fréchet distance.
    """
    table = summarise_runs([load_run(d) for d in run_dirs], top_k=tuple(top_k))
    with atomic_path(summary) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(mean_std) as tmp:
        mean_std_table(table).to_csv(tmp, index=False)


def plot_comparison(
    runs: dict[str, list[PathLike]],
    labels: dict[str, str],
    top_k: list[int],
    title: str,
    output: PathLike,
    pdf: bool = False,
) -> None:
    """Top-k best-so-far curves of several experiments on one axis (mean ± std over seeds),
    and the running fraction of valid queries beside them when the classifier judged them."""
    curves = {
        labels.get(name, name): [load_run(d).queries["score"].to_numpy() for d in dirs]
        for name, dirs in runs.items()
    }
    validity = None
    if all((Path(d) / "validity.csv").is_file() for dirs in runs.values() for d in dirs):
        validity = {
            labels.get(name, name): [
                pd.read_csv(Path(d) / "validity.csv")["valid_fraction_so_far"].to_numpy()
                for d in dirs
            ]
            for name, dirs in runs.items()
        }
    fig = plots.plot_score_curves(curves, top_k=tuple(top_k), title=title, validity=validity)
    plots.save_figure(fig, output, pdf)


def plot_best_images(run_dirs: list[PathLike], n: int, title: str, output: PathLike) -> None:
    """The best images an experiment found over all its seeds."""
    from lso.results import load_run_arrays

    arrays = [load_run_arrays(d) for d in run_dirs]
    images = np.concatenate([a.images for a in arrays])
    scores = np.concatenate([a.scores for a in arrays])
    plots.save_figure(plots.plot_best_images(images, scores, n=n, title=title), output)


def plot_snapshots(run_dir: PathLike, max_panels: int, output: PathLike) -> None:
    """Latent snapshots of a 2-D run with its queries overlaid."""
    from lso.results import load_run_arrays

    a = load_run_arrays(run_dir)
    fig = plots.plot_latent_snapshots(
        a.snapshots.grid,
        a.snapshots.images,
        a.snapshots.iterations,
        a.latents,
        a.iterations,
        max_panels=max_panels,
    )
    plots.save_figure(fig, output)


def plot_diagnostics(run_dirs: list[PathLike], title: str, output: PathLike) -> None:
    """Per-round optimiser timings and surrogate quality of one experiment, per seed."""
    runs = {f"seed {load_run(d).seed}": pd.read_csv(Path(d) / "diagnostics.csv") for d in run_dirs}
    plots.save_figure(plots.plot_diagnostics(runs, title=title), output)


def plot_weights(dataset_path: PathLike, k_values: list[float], output: PathLike) -> None:
    """How rank weighting with each k reshapes the training data's score distribution."""
    scores = load_dataset(dataset_path)["train_scores"]
    plots.save_figure(plots.plot_weight_distribution(scores, [float(k) for k in k_values]), output)


def plot_training(train_log: PathLike, output: PathLike) -> None:
    """Loss curves of a pretraining run."""
    plots.save_figure(plots.plot_training_log(pd.read_csv(train_log)), output)
