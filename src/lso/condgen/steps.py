"""Pipeline steps of conditional generation and of judging generated digits with a classifier.

Each function reads and writes files only through its arguments, one per Snakemake rule.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lso import metrics, plots
from lso.condgen import plots as condgen_plots
from lso.condgen.bo import gp_landscape, run_bo, summarise_condgen, top_evaluations
from lso.condgen.objective import (
    decoded_images,
    decoded_objective,
    decoded_probabilities,
    landscapes_by_target,
    predicted_probabilities,
)
from lso.data.mnist import load_dataset, load_labelled_dataset
from lso.models import build_model, load_checkpoint
from lso.models.base import TrainableModule
from lso.results import load_run_arrays
from lso.training import FitSettings, fit_and_save
from lso.utils import InputError, PathLike, atomic_path, resolve_device, seed_everything


def _write_json(path: PathLike, payload: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2))


def _tensors(data: dict[str, np.ndarray], split: str, device: torch.device):
    images = torch.as_tensor(data[f"{split}_images"], device=device)
    labels = torch.as_tensor(data[f"{split}_labels"], device=device)
    return images, labels


def train_classifier(
    dataset_path: PathLike,
    spec: dict[str, Any],
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    metrics_path: PathLike,
    device_name: str = "auto",
) -> None:
    """Train the MNIST classifier; record its held-out accuracy beside the checkpoint."""
    device = resolve_device(device_name)
    seed_everything(spec["seed"])
    model = build_model("classifier", {}).to(device)
    settings = FitSettings(spec["epochs"], spec["batch_size"], spec["lr"])
    val, val_labels, n_train = _fit_labelled(
        model, dataset_path, settings, spec["seed"], checkpoint, train_log
    )
    accuracy = float((model.predict_proba(val).argmax(1) == val_labels).float().mean())
    _write_json(metrics_path, {"val_accuracy": accuracy, "n_train": n_train, "n_val": len(val)})


def train_joint(
    dataset_path: PathLike,
    spec: dict[str, Any],
    predictor: str,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    device_name: str = "auto",
) -> None:
    """Train a 2-D VAE jointly with a predictor head (``off``, ``classifier``, ``regressor``)."""
    device = resolve_device(device_name)
    seed_everything(spec["seed"])
    model = build_model(
        "joint_vae",
        {
            "latent_dim": 2,
            "predictor": predictor,
            "predictor_weight": spec["predictor_weight"],
            "beta": spec["beta"],
        },
    ).to(device)
    settings = FitSettings(
        spec["epochs"], spec["batch_size"], spec["lr"], optimizer=spec["optimizer"]
    )
    _fit_labelled(model, dataset_path, settings, spec["seed"], checkpoint, train_log, predictor)


def _fit_labelled(
    model: TrainableModule,
    dataset_path: PathLike,
    settings: FitSettings,
    seed: int,
    checkpoint: PathLike,
    train_log: PathLike,
    description: str = "classifier",
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Fit ``model`` to the labelled data set on its device and save it.

    Returns the validation images and labels (on that device) and the number of training
    images, for metrics of the trained model.
    """
    device = next(model.parameters()).device
    data = load_labelled_dataset(dataset_path)
    train, train_labels = _tensors(data, "train", device)
    val, val_labels = _tensors(data, "val", device)
    fit_and_save(
        model,
        train,
        settings,
        seed=seed,
        checkpoint=checkpoint,
        train_log=train_log,
        val_images=val,
        targets=train_labels,
        val_targets=val_labels,
        description=description,
    )
    return val, val_labels, len(train)


def condgen_run(
    joint_checkpoint: PathLike,
    classifier_checkpoint: PathLike,
    spec: dict[str, Any],
    target: int,
    seed: int,
    *,
    binarise: bool,
    arrays: PathLike,
    summary: PathLike,
    device_name: str = "auto",
) -> None:
    """One BO run for one target digit; saves every evaluation, the GP maps and a summary.

    ``binarise``: the classifier judges decoded images rounded to {0, 1} (it was trained on
    binarised digits) instead of pixel means; the saved top images are the judged ones.
    """
    device = resolve_device(device_name)
    decoder_model = load_checkpoint(joint_checkpoint, device)
    classifier = load_checkpoint(classifier_checkpoint, device)

    def objective(t: torch.Tensor) -> torch.Tensor:
        return decoded_objective(
            t.to(device), target, decoder_model, classifier, binarise=binarise
        ).cpu()

    result = run_bo(
        objective,
        seed=seed,
        bounds=spec["bounds"],
        n_initial=spec["n_initial"],
        n_iterations=spec["n_iterations"],
        xi=spec["xi"],
    )
    maps = gp_landscape(result, grid_len=spec["landscape_grid_len"])
    top_t, top_values = top_evaluations(result, k=10)
    top_t = top_t.to(device, torch.float32)
    top_images = decoded_images(top_t, decoder_model, binarise=binarise).cpu().numpy()
    with atomic_path(arrays) as tmp:
        np.savez_compressed(
            tmp,
            t=result.t.numpy(),
            values=result.values.numpy(),
            top_images=top_images,
            top_values=top_values.numpy(),
            **{f"gp_{k}": v.cpu().numpy() for k, v in maps.items()},
        )
    row = summarise_condgen(
        result,
        target,
        classifier,
        decoder_model,
        binarise=binarise,
        probability=spec["probability"],
    )
    _write_json(summary, {**row, "seed": seed})


def condgen_table(summaries: list[PathLike], output: PathLike) -> None:
    """``condgen.csv``: one row per target and seed."""
    rows = [json.loads(Path(p).read_text()) for p in summaries]
    table = pd.DataFrame(rows).sort_values(["target", "seed"])
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)


def plot_latent_spaces(
    joint_checkpoints: dict[str, PathLike],
    dataset_path: PathLike,
    bounds: float,
    output: PathLike,
    device_name: str = "auto",
) -> None:
    """Validation digits in each joint model's latent space, coloured by label."""
    device = resolve_device(device_name)
    data = load_labelled_dataset(dataset_path)
    images, labels = _tensors(data, "val", device)
    latents = {}
    for name, path in joint_checkpoints.items():
        model = load_checkpoint(path, device)
        with torch.no_grad():
            latents[f"predictor {name}"] = model.encode(images)[0].cpu().numpy()
    fig = condgen_plots.plot_latent_spaces(latents, labels.cpu().numpy(), bounds=bounds)
    plots.save_figure(fig, output)


def plot_landscapes(
    joint_checkpoint: PathLike,
    classifier_checkpoint: PathLike,
    spec: dict[str, Any],
    output: PathLike,
    *,
    binarise: bool,
    device_name: str = "auto",
) -> None:
    """Predictor-based and decode-then-classify objectives over the search box, per target.

    The predictor row needs the joint model with a classifier head; the grid is decoded and
    classified once for all targets (``binarise`` as in :func:`condgen_run`).
    """
    device = resolve_device(device_name)
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
            spec["targets"],
            bounds=spec["bounds"],
            grid_len=spec["landscape_grid_len"],
            device=device,
        )
        rows[name] = {target: m.values.cpu().numpy() for target, m in maps.items()}
        axis = next(iter(maps.values())).axis.cpu().numpy()
    plots.save_figure(condgen_plots.plot_objective_landscapes(axis, rows), output)


def plot_bo_run(arrays: PathLike, target: int, output: PathLike) -> None:
    """GP posterior mean, standard deviation and acquisition of one run, with its points."""
    data = np.load(arrays)
    fig = condgen_plots.plot_bo_run(
        data["gp_axis"],
        data["gp_mean"],
        data["gp_std"],
        data["gp_log_ei"],
        data["t"],
        data["values"],
        title=f"target {target}",
    )
    plots.save_figure(fig, output)


def plot_top_images(arrays: dict[int, list[PathLike]], output: PathLike) -> None:
    """Per target, the ten best decoded images over all seeds with their objective values."""
    rows = {}
    for target, paths in arrays.items():
        loaded = [np.load(p) for p in paths]
        images = np.concatenate([d["top_images"] for d in loaded])
        values = np.concatenate([d["top_values"] for d in loaded])
        best = np.argsort(values, kind="stable")[:10]
        rows[int(target)] = (images[best], values[best])
    plots.save_figure(condgen_plots.plot_top_images(rows), output)


def load_feature_network(path: PathLike | None, classifier: torch.nn.Module, device: torch.device):
    """The features for Fréchet distances: a user's TorchScript network, or the classifier's."""
    if path is None:
        return classifier.features
    if not Path(path).is_file():
        raise InputError(f"validity.feature_network {path}: no such file")
    try:
        network = torch.jit.load(str(path), map_location=device).eval()
    except RuntimeError as error:
        raise InputError(
            f"validity.feature_network {path} is not a TorchScript file: {error}"
        ) from error

    def features(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return network(images.unsqueeze(1)).flatten(1)

    return features


def evaluate_run(
    run_dir: PathLike,
    dataset_path: PathLike,
    classifier_checkpoint: PathLike,
    spec: dict[str, Any],
    *,
    per_query: PathLike,
    summary: PathLike,
    device_name: str = "auto",
) -> None:
    """Validity of every queried image and the Fréchet distance of the queries to the data."""
    device = resolve_device(device_name)
    classifier = load_checkpoint(classifier_checkpoint, device)
    features = load_feature_network(spec.get("feature_network"), classifier, device)
    queried = torch.as_tensor(load_run_arrays(run_dir).images, device=device)
    training = torch.as_tensor(load_dataset(dataset_path)["train_images"], device=device)
    probabilities = classifier.predict_proba(queried).cpu().numpy()
    valid = metrics.valid_images(probabilities, spec["digit"], spec["threshold"])
    probability = probabilities[:, spec["digit"]]
    table = pd.DataFrame(
        {
            "query": np.arange(1, len(valid) + 1),
            "p_digit": probability,
            "valid": valid,
            "valid_fraction_so_far": np.cumsum(valid) / np.arange(1, len(valid) + 1),
        }
    )
    with atomic_path(per_query) as tmp:
        table.to_csv(tmp, index=False)
    distance = metrics.frechet_distance_between(
        features(queried).cpu().numpy(), features(training).cpu().numpy()
    )
    _write_json(
        summary,
        {
            "validity": float(valid.mean()),
            "frechet_distance": float(distance),
            "digit": spec["digit"],
            "threshold": spec["threshold"],
        },
    )
