"""The interface every generative model of the library offers, and checkpoint I/O.

The optimisation loop only needs four things from a model: ``encode`` (to place data in the
latent space), ``decode`` (to turn latent points into images), ``loss`` (to retrain it) and the
hooks of its training schedule. Keeping that surface small is what lets a VAE, an RAE and later
models share one loop.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lso.utils import InputError, atomic_path


class TrainableModule(nn.Module):
    """What :func:`lso.training.fit` trains and :func:`save_checkpoint` stores.

    Generative models and the oracle classifier share the fit loop and the checkpoint format,
    so the training hooks and the ``kind``/``hparams`` pair live here rather than in
    :class:`LatentModel`.
    """

    kind: str = ""

    def __init__(self, **hparams: Any) -> None:
        super().__init__()
        self.hparams = dict(hparams)

    def on_train_step(self) -> None:
        """Advance per-step schedules (e.g. KL annealing); called after every optimiser step."""

    def finish_schedules(self) -> None:
        """Jump every schedule to its final value; retraining during optimisation uses it."""

    def plateau_scheduler(
        self, optimiser: torch.optim.Optimizer
    ) -> torch.optim.lr_scheduler.ReduceLROnPlateau | None:
        """A learning-rate scheduler stepped on the validation loss, if the model uses one."""
        return None


class LatentModel(TrainableModule, ABC):
    """A generative model with a continuous latent space of size ``latent_dim``."""

    def __init__(self, **hparams: Any) -> None:
        super().__init__(**hparams)
        self.latent_dim = int(hparams["latent_dim"])

    @abstractmethod
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return the latent mean and log-variance (``None`` for deterministic encoders)."""

    @abstractmethod
    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Map latent points to per-pixel Bernoulli logits of shape (n, 1, 28, 28)."""

    @abstractmethod
    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training loss terms for a batch; the key ``loss`` is what gets minimised."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities (n, 28, 28): the deterministic decode used for querying."""
        return torch.sigmoid(self.decode_logits(z)).squeeze(1)


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
    from lso.models.registry import build_model

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
