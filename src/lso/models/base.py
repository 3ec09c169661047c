"""The interface every generative model of the library offers.

The optimisation loop only needs four things from a model: ``encode`` (to place data in the
latent space), ``decode`` (to turn latent points into images), ``loss`` (to retrain it) and the
hooks of its training schedule. Keeping that surface small is what lets a VAE, an RAE and later
models share one loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


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

    @contextmanager
    def evaluating(self) -> Iterator[None]:
        """Evaluation mode for the block, then the previous mode again.

        Batch norm and dropout in training mode would make an oracle's answer depend on the
        rest of the batch and on chance, and a freshly loaded checkpoint is in training mode.
        """
        was_training = self.training
        self.eval()
        try:
            yield
        finally:
            self.train(was_training)

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
