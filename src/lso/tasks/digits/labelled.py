"""Training on the labelled digits (every digit with its label): the classifier and the
conditional-generation VAEs, which learn a label predictor beside their decoder."""

from __future__ import annotations

import torch

from lso.core.training import fit_and_save
from lso.models.base import TrainableModule
from lso.models.fitting import FitSettings
from lso.tasks.digits.dataset import load_labelled_dataset
from lso.utils import PathLike

KEYS = ("images", "labels")


def fit_labelled_and_save(
    model: TrainableModule,
    dataset_path: PathLike,
    settings: FitSettings,
    *,
    seed: int,
    checkpoint: PathLike,
    train_log: PathLike,
    description: str,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Fit ``model`` to a labelled (all-digit) data set on its device and save it.

    Returns the validation images and labels (on that device) and the number of training
    images, for metrics of the trained model (the classifier's accuracy).
    """
    device = next(model.parameters()).device
    data = load_labelled_dataset(dataset_path)
    train, train_labels = (torch.as_tensor(data[f"train_{k}"], device=device) for k in KEYS)
    val, val_labels = (torch.as_tensor(data[f"val_{k}"], device=device) for k in KEYS)
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
