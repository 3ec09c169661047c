"""Checkpoint files: one ``torch.save`` of ``{"class", "hparams", "state_dict"}`` per model.

Kept apart from :mod:`lso.models.base` because loading needs the registry of every model
class, which itself imports the base classes.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from lso.models.base import TrainableModule
from lso.models.build import build_model
from lso.utils import InputError, atomic_path


def save_checkpoint(model: TrainableModule, path: str | os.PathLike) -> None:
    """Write the model as one file: class name, hyperparameters and ``state_dict``."""
    payload = {"class": model.kind, "hparams": model.hparams, "state_dict": model.state_dict()}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(
    path: str | os.PathLike,
    device: torch.device | str = "cpu",
    expected: type[TrainableModule] = TrainableModule,
) -> TrainableModule:
    """Rebuild a model from :func:`save_checkpoint` output with ``weights_only=True``.

    ``weights_only`` means a checkpoint cannot run code when loaded, so a checkpoint a user
    downloads is as safe to open as a data file. A caller that needs a particular kind of
    model passes its class as ``expected`` (e.g. ``LatentModel`` or ``MnistClassifier``), so
    that a checkpoint of the wrong kind fails here, naming the file, rather than later.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises several types for corrupt files
        raise InputError(f"checkpoint {path} could not be read as a torch file: {error}") from error
    missing = {"class", "hparams", "state_dict"} - set(payload if isinstance(payload, dict) else ())
    if missing:
        raise InputError(f"checkpoint {path} lacks the keys {sorted(missing)}")
    model = build_model(payload["class"], payload["hparams"])
    if not isinstance(model, expected):
        raise InputError(
            f"checkpoint {path} holds a {payload['class']!r}, expected a {expected.__name__}"
        )
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        raise InputError(f"checkpoint {path} does not match its model class: {error}") from error
    return model.to(device)
