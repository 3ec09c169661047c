"""Figure steps of conditional generation; no BO run imports this. The two figures that run
the models decode a few hundred points and run on the CPU on purpose (no GPU is requested)."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch

from lso.condgen.bo import TOP_K, BOResult, fit_gp, gp_landscape
from lso.condgen.objective import (
    decoded_probabilities,
    landscapes_by_target,
    predicted_probabilities,
)
from lso.figures import condgen as condgen_figures
from lso.figures.common import save_figure
from lso.models.checkpoint import load_checkpoint
from lso.runtime import resolve_device
from lso.tasks.digits.dataset import load_labelled_dataset
from lso.utils import PathLike


def plot_latent_spaces(
    joint_checkpoints: dict[str, PathLike],
    dataset_path: PathLike,
    bounds: float,
    output: PathLike,
) -> None:
    """Validation digits in each joint model's latent space, coloured by label."""
    device = resolve_device("cpu")  # a figure's few hundred decodes: on purpose on the CPU
    data = load_labelled_dataset(dataset_path)
    images = torch.as_tensor(data["val_images"], device=device)
    labels = data["val_labels"]
    latents = {}
    for name, path in joint_checkpoints.items():
        model = load_checkpoint(path, device)
        with torch.no_grad():
            latents[f"predictor {name}"] = model.encode(images)[0].cpu().numpy()
    fig = condgen_figures.plot_latent_spaces(latents, labels, bounds=bounds)
    save_figure(fig, output)


def plot_landscapes(
    joint_checkpoint: PathLike,
    classifier_checkpoint: PathLike,
    targets: list[int],
    bounds: float,
    grid_len: int,
    output: PathLike,
    *,
    binarise: bool,
) -> None:
    """Predictor-based and decode-then-classify objectives over the search box, per target.

    The predictor row needs the joint model with a classifier head; the grid is decoded and
    classified once for all targets (``binarise`` as in :func:`condgen_run`).
    """
    device = resolve_device("cpu")  # a figure's few hundred decodes: on purpose on the CPU
    joint = load_checkpoint(joint_checkpoint, device)
    classifier = load_checkpoint(classifier_checkpoint, device)
    probability_fns = {
        "decode + classify": partial(
            decoded_probabilities, decoder_model=joint, classifier=classifier, binarise=binarise
        )
    }
    if joint.hparams["predictor"] == "classifier":
        probability_fns = {
            "predictor": partial(predicted_probabilities, joint_model=joint),
            **probability_fns,
        }
    rows, axis = {}, None
    for name, probability_fn in probability_fns.items():
        maps = landscapes_by_target(
            probability_fn,
            targets,
            bounds=bounds,
            grid_len=grid_len,
            device=device,
        )
        rows[name] = {target: m.values.cpu().numpy() for target, m in maps.items()}
        axis = next(iter(maps.values())).axis.cpu().numpy()
    save_figure(condgen_figures.plot_objective_landscapes(axis, rows), output)


def plot_bo_run(arrays: PathLike, grid_len: int, output: PathLike) -> None:
    """GP posterior mean, standard deviation and acquisition of one run, with its points.

    The GP is refitted to the run's evaluations exactly as the run's last fit was made, so
    the figure's resolution is a figure setting, not a setting of the run.
    """
    with np.load(arrays) as data:
        t, values = torch.as_tensor(data["t"]), torch.as_tensor(data["values"])
        bounds, xi, target = float(data["bounds"]), float(data["xi"]), int(data["target"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = fit_gp(t, values, bounds)
    result = BOResult(t=t, values=values, model=model, bounds=bounds, xi=xi)
    maps = {key: value.numpy() for key, value in gp_landscape(result, grid_len).items()}
    fig = condgen_figures.plot_bo_run(
        maps["axis"],
        maps["mean"],
        maps["std"],
        maps["log_ei"],
        t.numpy(),
        values.numpy(),
        title=f"target {target}",
    )
    save_figure(fig, output)


def plot_top_images(arrays: dict[int, list[PathLike]], output: PathLike) -> None:
    """Per target, the ten best decoded images over all seeds with their objective values."""
    rows = {}
    for target, paths in arrays.items():
        loaded = [np.load(p) for p in paths]
        images = np.concatenate([d["top_images"] for d in loaded])
        values = np.concatenate([d["top_values"] for d in loaded])
        best = np.argsort(values, kind="stable")[:TOP_K]
        rows[int(target)] = (images[best], values[best])
    save_figure(condgen_figures.plot_top_images(rows), output)
