"""The interface every generative model of the library offers.

What the optimisation loop may ask of a generative model, and nothing more:

- ``decode(z)``: the image a latent point stands for, in [0, 1], of shape ``image_shape``;
- ``query_images(z)``: the image that is actually scored and appended to the data (binary
  models round their pixel probabilities; continuous ones quantise to 8 bits, the precision at
  which runs store images, so a resumed run scores exactly what it stored);
- ``encode(x)``: only for models with an encoder (``has_encoder``); a GAN has none, and the
  constraints that need codes (``gmm_full``, ``gmm_fit``) refuse such a model by name;
- ``loss(x)`` and the schedule hooks: for retraining on weighted data;
- ``latent_kind``: ``"continuous"`` (Gaussian-like codes the BO optimisers search) or, for
  models such as a VQ-VAE, ``"codes"`` (grids of categorical code indices).

Keeping that surface small is what lets a VAE, an RAE, a faces VAE and later models share one
loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from torch import nn

from lso.runtime import inference_batch_size, mixed_precision


class Monitor(Protocol):
    """Called after every training step with (steps done, total); then draws a figure."""

    def __call__(self, step: int, total: int) -> None: ...

    def figure(self) -> Any: ...


class TrainableModule(nn.Module):
    """What :func:`lso.core.training.fit` trains and :func:`save_checkpoint` stores.

    Generative models and the oracle classifier share the fit loop and the checkpoint format,
    so the training hooks and the ``kind``/``hparams`` pair live here rather than in
    :class:`LatentModel`.
    """

    kind: str = ""
    channels_last: bool = True  # whether build_model lays the convolutions out channels-last
    trains_itself: bool = False  # whether lso.core.training.fit hands over to train_itself

    def __init__(self, **hparams: Any) -> None:
        super().__init__()
        self.hparams = dict(hparams)

    def train_itself(
        self,
        images: torch.Tensor,
        settings: Any,
        *,
        generator: torch.Generator,
        weights: np.ndarray | None,
        description: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> pd.DataFrame:
        """A training procedure of the model's own (``trains_itself``): one that is not
        "minimise ``loss(x)`` with one optimiser", such as a GAN's. Returns the loss log."""
        raise NotImplementedError(f"model type {self.kind!r} trains with lso.core.training.fit")

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
    """A generative model with a latent space of size ``latent_dim`` (see the module doc)."""

    image_shape: tuple[int, ...] = ()
    binary: bool = False
    has_encoder: bool = True
    latent_kind: str = "continuous"
    # loss-log terms the loop records per retraining (their mean over its steps) beside each
    # round's diagnostics, e.g. a VQ-VAE's codebook usage
    retrain_diagnostics: tuple[str, ...] = ()

    def __init__(self, **hparams: Any) -> None:
        super().__init__(**hparams)
        self.latent_dim = int(hparams["latent_dim"])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Return the latent mean and log-variance (``None`` for deterministic encoders)."""
        raise NotImplementedError(f"model type {self.kind!r} has no encoder")

    def prior_sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` latent points from the model's prior (CPU): N(0, I) for continuous latents."""
        return torch.randn(n, self.latent_dim, generator=generator)

    @abstractmethod
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (n, *image_shape) in [0, 1]: pixel probabilities or the mean image."""

    @abstractmethod
    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training loss terms for a batch; the key ``loss`` is what gets minimised."""

    @torch.no_grad()
    def query_images(self, z: torch.Tensor) -> torch.Tensor:
        """The images queried at ``z``: rounded for binary models, 8-bit levels otherwise
        (in float32, whatever precision ``decode`` ran in)."""
        images = self.decode(z).float()
        if self.binary:
            return (images > 0.5).float()
        return torch.round(images.clamp(0.0, 1.0) * 255.0) / 255.0


class BernoulliImageModel(LatentModel):
    """A model of binary images whose decoder gives per-pixel Bernoulli logits (n, 1, H, W)."""

    binary = True

    @abstractmethod
    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Per-pixel Bernoulli logits of shape (n, 1, H, W)."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel probabilities (n, H, W)."""
        return torch.sigmoid(self.decode_logits(z)).squeeze(1)


@torch.no_grad()
def decode_queries(
    model: LatentModel, latents: np.ndarray, device: torch.device, batch_size: int | None = None
) -> np.ndarray:
    """The images the model's latent points are queried as (:meth:`LatentModel.query_images`),
    in batches of ``batch_size`` (default: 512 on the CPU, more on a GPU), under the job's
    precision (:func:`lso.runtime.mixed_precision`)."""
    model.eval()
    batch_size = batch_size or inference_batch_size(device, 512)
    parts = []
    for start in range(0, len(latents), batch_size):
        z = torch.as_tensor(latents[start : start + batch_size], dtype=torch.float32, device=device)
        with mixed_precision():
            parts.append(model.query_images(z).cpu().numpy())
    if parts:
        return np.concatenate(parts)
    return np.zeros((0, *model.image_shape), np.float32)
