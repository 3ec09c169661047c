"""Training the faces attribute predictors: the black box and its independent judge.

The faces black box is the expected smile level Σ c·p_c under a ResNet's softmax (the
thesis's ResNet-50 on CelebA-Dialog's Smiling levels; :mod:`lso.tasks.faces.objective`).
Two predictors share one recipe: the
black box learns from one half of the labelled faces and the judge, which scores the runs'
best queries, from the other, so the judge never saw what the black box was fitted to.

After training, one temperature is fitted on the held-out faces
(:mod:`lso.tasks.faces.calibration`) and stored in the checkpoint, so every job that loads
the predictor scores with the same calibrated probabilities. Calibration matters here
because the optimiser maximises an expectation: an over-confident predictor makes it jump
between levels.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from lso.config.types import PredictorSettings
from lso.core.training import fit
from lso.models.attribute_classifier import AttributeClassifier
from lso.models.build import build_model
from lso.models.fitting import FitSettings
from lso.runtime import seed_everything
from lso.tasks.faces.augment import Augmentation, augmenter
from lso.tasks.faces.calibration import calibration_metrics, fit_temperature
from lso.tasks.faces.dataset import n_levels, predictor_split
from lso.utils import InputError

N_BINS = 15
# augmentation draws come from their own stream, apart from initialisation and batch order
AUGMENTATION_SEED_OFFSET = 1_000_003  # calibration bins, as torchmetrics' default and Guo et al.


class TrainedPredictor(NamedTuple):
    """A calibrated predictor, its loss log, and its validation logits and labels."""

    model: AttributeClassifier
    log: pd.DataFrame
    logits: torch.Tensor
    labels: torch.Tensor
    n_train: int


def fit_predictor(
    data: dict[str, np.ndarray], spec: PredictorSettings, role: str, device: torch.device
) -> TrainedPredictor:
    """Train the ``role`` predictor (``black_box`` or ``judge``) and fit its temperature.

    Each role learns from its own half of the faces, with its own architecture, seed and
    augmentation draws (``spec``), so its errors are as independent of the other's as the
    data allow.
    """
    split = predictor_split(data, role)
    if len(split.train_levels) == 0 or len(split.val_levels) == 0:
        raise InputError(
            f"the {role} half needs training and validation faces (to fit the temperature), "
            f"got {len(split.train_levels)} and {len(split.val_levels)}"
        )
    seed_everything(spec.seed)
    model = build_model(spec.architecture, predictor_hparams(spec, n_levels(data))).to(device)
    train, train_levels, val, val_levels = (torch.as_tensor(a, device=device) for a in split)
    log = fit(
        model,
        train,
        FitSettings(spec.epochs, spec.batch_size, spec.lr, lr_decay="cosine"),
        generator=torch.Generator().manual_seed(spec.seed),
        val_images=val,
        targets=train_levels,
        val_targets=val_levels,
        description=f"predictor {role}",
        transform=augmenter(_augmentation(spec), AUGMENTATION_SEED_OFFSET + spec.seed),
    )
    logits, labels = model.predict_logits(val).cpu(), val_levels.cpu()
    model.temperature.fill_(fit_temperature(logits, labels))
    return TrainedPredictor(model, log, logits, labels, len(train))


def _augmentation(spec: PredictorSettings) -> Augmentation | None:
    return None if spec.augmentation is None else Augmentation(*spec.augmentation)


def predictor_hparams(spec: PredictorSettings, n_classes: int) -> dict[str, object]:
    """The constructor keywords of a predictor of `spec` with `n_classes` levels."""
    hparams: dict[str, object] = {
        "n_classes": n_classes,
        "widths": list(spec.widths),
        "input_size": spec.input_size,
    }
    if spec.blocks is not None:
        hparams["blocks"] = list(spec.blocks)
    return hparams


def predictor_metrics(
    logits: torch.Tensor, labels: torch.Tensor, temperature: float, role: str, n_train: int
) -> dict[str, object]:
    """Accuracy, NLL and ECE on the validation faces before and after temperature scaling."""
    before = calibration_metrics(logits, labels, n_bins=N_BINS)
    after = calibration_metrics(logits, labels, temperature, n_bins=N_BINS)
    return {
        "role": role,
        **{f"{name}_before": value for name, value in before.items()},
        **{f"{name}_after": value for name, value in after.items()},
        "temperature": temperature,
        "n_classes": logits.shape[1],
        "n_train": n_train,
        "n_val": len(labels),
    }


def calibration_arrays(
    logits: torch.Tensor, labels: torch.Tensor, temperature: float
) -> dict[str, np.ndarray]:
    """What the reliability figure draws: validation probabilities before and after scaling,
    the labels, and each ECE."""
    arrays: dict[str, np.ndarray] = {
        "labels": labels.numpy(),
        "temperature": np.asarray(temperature),
    }
    for name, scale in (("before", 1.0), ("after", temperature)):
        arrays[f"probabilities_{name}"] = (logits.double() / scale).softmax(1).numpy()
        ece = calibration_metrics(logits, labels, scale, n_bins=N_BINS)["ece"]
        arrays[f"ece_{name}"] = np.asarray(ece)
    return arrays
