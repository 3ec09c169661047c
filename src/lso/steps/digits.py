"""The digits' judging steps: training the MNIST classifier, judging a thickness run."""

from __future__ import annotations

import torch

from lso.config.types import ClassifierSettings, ValiditySettings
from lso.core.features import load_feature_network
from lso.core.runfiles import load_run_arrays
from lso.models.build import build_model
from lso.models.checkpoint import load_checkpoint
from lso.models.classifier import MnistClassifier
from lso.models.fitting import FitSettings
from lso.runtime import job_device, seed_everything
from lso.tasks.digits.dataset import load_dataset
from lso.tasks.digits.labelled import fit_labelled_and_save
from lso.tasks.digits.validity import judge_digits
from lso.utils import PathLike, atomic_path, write_json


def train_classifier(
    dataset_path: PathLike,
    spec: ClassifierSettings,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    metrics_path: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """Train the MNIST classifier; record its held-out accuracy beside the checkpoint."""
    device = job_device(device_name, precision)
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


def evaluate_validity(
    run_dir: PathLike,
    dataset_path: PathLike,
    classifier_checkpoint: PathLike,
    spec: ValiditySettings,
    *,
    per_query: PathLike,
    summary: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """Validity of every queried image and the Fréchet distance of the queries to the data."""
    device = job_device(device_name, precision)
    classifier = load_checkpoint(classifier_checkpoint, device, expected=MnistClassifier)
    features = load_feature_network(spec.feature_network, classifier.features, device)
    queried = torch.as_tensor(load_run_arrays(run_dir).images, device=device)
    training = torch.as_tensor(load_dataset(dataset_path)["train_images"], device=device)
    table, judged = judge_digits(classifier, features, queried, training, spec)
    with atomic_path(per_query) as tmp:
        table.to_csv(tmp, index=False)
    write_json(summary, judged)
