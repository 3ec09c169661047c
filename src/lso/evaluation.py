"""The MNIST classifier as a judge: its training, and the validity and Fréchet distance of
the queries of a thickness run.

Thickness rewards ink, so a run can "improve" by drawing blobs. The classifier (the thesis's
CNN) says whether a queried image is still the digit, and the Fréchet distance between its
features of the queries and of the training digits says how far the queries moved from the
data. Conditional generation uses the same classifier as its black box.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lso import metrics
from lso.data.mnist import load_dataset
from lso.models import build_model, load_checkpoint
from lso.results import load_run_arrays
from lso.settings import ClassifierSettings, ValiditySettings
from lso.training import FitSettings, fit_labelled_and_save
from lso.utils import InputError, PathLike, atomic_path, resolve_device, seed_everything


def write_json(path: PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2))


def train_classifier(
    dataset_path: PathLike,
    spec: ClassifierSettings,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    metrics_path: PathLike,
    device_name: str = "auto",
) -> None:
    """Train the MNIST classifier; record its held-out accuracy beside the checkpoint."""
    device = resolve_device(device_name)
    seed_everything(spec.seed)
    model = build_model("classifier", {}).to(device)
    val, val_labels, n_train = fit_labelled_and_save(
        model,
        dataset_path,
        FitSettings(spec.epochs, spec.batch_size, spec.lr),
        seed=spec.seed,
        checkpoint=checkpoint,
        train_log=train_log,
        description="classifier",
    )
    accuracy = float((model.predict_proba(val).argmax(1) == val_labels).float().mean())
    write_json(metrics_path, {"val_accuracy": accuracy, "n_train": n_train, "n_val": len(val)})


def load_feature_network(
    path: PathLike | None, default: Callable, device: torch.device, key: str = "validity"
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The features for Fréchet distances: a user's TorchScript network, or ``default``.

    Grey images (n, H, W) reach the network as (n, 1, H, W); colour ones as they are.
    ``key`` names the config section in errors.
    """
    if path is None:
        return default
    if not Path(path).is_file():
        raise InputError(f"{key}.feature_network {path}: no such file")
    try:
        network = torch.jit.load(str(path), map_location=device).eval()
    except RuntimeError as error:
        raise InputError(
            f"{key}.feature_network {path} is not a TorchScript file: {error}"
        ) from error

    def features(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return network(images if images.ndim == 4 else images.unsqueeze(1)).flatten(1)

    return features


def evaluate_run(
    run_dir: PathLike,
    dataset_path: PathLike,
    classifier_checkpoint: PathLike,
    spec: ValiditySettings,
    *,
    per_query: PathLike,
    summary: PathLike,
    device_name: str = "auto",
) -> None:
    """Validity of every queried image and the Fréchet distance of the queries to the data."""
    device = resolve_device(device_name)
    classifier = load_checkpoint(classifier_checkpoint, device)
    features = load_feature_network(spec.feature_network, classifier.features, device)
    queried = torch.as_tensor(load_run_arrays(run_dir).images, device=device)
    training = torch.as_tensor(load_dataset(dataset_path)["train_images"], device=device)
    probabilities = classifier.predict_proba(queried).cpu().numpy()
    valid = metrics.valid_images(probabilities, spec.digit, spec.threshold)
    probability = probabilities[:, spec.digit]
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
    write_json(
        summary,
        {
            "validity": float(valid.mean()),
            "frechet_distance": float(distance),
            "digit": spec.digit,
            "threshold": spec.threshold,
        },
    )
