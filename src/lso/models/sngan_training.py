"""Adversarial training of the SN-GAN: hinge loss, ``n_dis`` discriminator steps per
generator step, Adam with betas (0, 0.9), as Mimicry trains SNGAN-64.

Real batches are drawn exactly as :func:`lso.core.training.fit` draws them (shuffled epochs, or
with replacement in proportion to the data weights during weighted retraining), from the
data as it stands, *queried images included*. The thesis built its GAN data loader once
before the loop, so its retrainings never saw a query or a new weight; here every call draws
from the tensor and weights it is given.

One "epoch" is as many real batches as the data holds (``len(images) // batch_size``), so a
run's ``retrain_epochs`` mean the same amount of data for a GAN as for a VAE; the generator
takes ``round(epochs * batches_per_epoch / n_dis)`` steps (at least one). The thesis's 2,222
initial and 222 later generator steps at batch 64 and ``n_dis`` 5 are 711,040 and 71,040
real images.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from lso.models.fitting import (
    FitSettings,
    Progress,
    batch_indices,
    batches_per_epoch,
    lr_decay_scheduler,
)
from lso.runtime import mixed_precision, model_device, unit_batch

logger = logging.getLogger(__name__)
BETAS = (0.0, 0.9)


class AdversarialModel(Protocol):
    """What adversarial training needs of a GAN (:class:`lso.models.sngan.SNGAN`)."""

    generator: nn.Module
    discriminator: nn.Module
    n_dis: int
    latent_dim: int
    optimiser_state: dict[str, Any]

    def train(self, mode: bool = True) -> Any: ...

    def eval(self) -> Any: ...


def generator_steps(n_images: int, settings: FitSettings, n_dis: int) -> int:
    """Generator steps for ``settings.epochs`` passes of real batches through the critic."""
    per_epoch = batches_per_epoch(n_images, settings.batch_size)
    return max(1, round(settings.epochs * per_epoch / n_dis))


def train_adversarially(
    model: AdversarialModel,
    images: torch.Tensor,
    settings: FitSettings,
    *,
    generator: torch.Generator,
    weights: np.ndarray | None = None,
    description: str = "gan",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Train generator and discriminator in place; return one log row per generator step.

    Latent draws come from ``generator`` (on the CPU, then moved), so a run is reproducible
    from its seed and resumable. With ``settings.keep_optimizer_state`` the Adam states
    continue from the model's previous call (stored in its state dict) and are stored again.
    """
    per_epoch = batches_per_epoch(len(images), settings.batch_size)
    steps = generator_steps(len(images), settings, model.n_dis)
    real_settings = FitSettings(
        epochs=steps * model.n_dis / per_epoch, batch_size=settings.batch_size, lr=settings.lr
    )
    real_batches = batch_indices(len(images), real_settings, weights, generator)
    g_optimiser, d_optimiser = _optimisers(model, settings)
    schedulers = [
        lr_decay_scheduler(opt, settings.lr_decay, steps) for opt in (g_optimiser, d_optimiser)
    ]
    n, device = min(settings.batch_size, len(images)), model_device(model.generator)

    def latents() -> torch.Tensor:
        return torch.randn(n, model.latent_dim, generator=generator).to(device)

    rows = []
    model.train()
    for step in tqdm(range(steps), desc=description, leave=False, disable=None):
        batches = real_batches[step * model.n_dis : (step + 1) * model.n_dis]
        d_loss = _critic_steps(model, images, batches, latents, d_optimiser, device)
        g_loss = _generator_step(model, latents, g_optimiser)
        for scheduler in schedulers:
            if scheduler is not None:
                scheduler.step()
        if progress is not None:
            progress(step + 1, steps)
        epoch = (step + 1) * model.n_dis / per_epoch
        rows.append(_log_row(step + 1, epoch, d_loss, g_loss, g_optimiser.param_groups[0]["lr"]))
    model.optimiser_state = (
        {"generator": g_optimiser.state_dict(), "discriminator": d_optimiser.state_dict()}
        if settings.keep_optimizer_state
        else {}
    )
    model.eval()
    logger.info(
        "%s: %d generator steps, final d_loss %.3f g_loss %.3f", description, steps, d_loss, g_loss
    )
    return pd.DataFrame(rows)


def _log_row(step: int, epoch: float, d_loss: float, g_loss: float, lr: float) -> dict:
    """One generator step's log row (``loss`` is the critic's, as for every model's log)."""
    return {
        "step": step,
        "epoch": epoch,
        "split": "train",
        "loss": d_loss,
        "d_loss": d_loss,
        "g_loss": g_loss,
        "lr": lr,
    }


def _critic_steps(
    model: AdversarialModel,
    images: torch.Tensor,
    batches: list[torch.Tensor],
    latents: Callable[[], torch.Tensor],
    optimiser: torch.optim.Optimizer,
    device: torch.device,
) -> float:
    """One discriminator step per real batch against fresh fakes; the last step's loss."""
    for index in batches:
        real = unit_batch(images, index, device)
        with torch.no_grad(), mixed_precision():
            fake = model.generator(latents())
        with mixed_precision():
            loss = _hinge_real_fake(model, real, fake)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return loss.item()


def _generator_step(
    model: AdversarialModel, latents: Callable[[], torch.Tensor], optimiser: torch.optim.Optimizer
) -> float:
    """One generator step on the hinge loss of fresh fakes; its loss."""
    with mixed_precision():
        loss = generator_hinge_loss(model.discriminator(model.generator(latents())))
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.item()


def _optimisers(
    model: AdversarialModel, settings: FitSettings
) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam (0, 0.9) for each network, continuing the stored states when asked to."""
    g_optimiser = torch.optim.Adam(model.generator.parameters(), lr=settings.lr, betas=BETAS)
    d_optimiser = torch.optim.Adam(model.discriminator.parameters(), lr=settings.lr, betas=BETAS)
    stored = model.optimiser_state
    if settings.keep_optimizer_state and stored:
        g_optimiser.load_state_dict(stored["generator"])
        d_optimiser.load_state_dict(stored["discriminator"])
        for optimiser in (g_optimiser, d_optimiser):
            for group in optimiser.param_groups:
                group["lr"] = group["initial_lr"] = settings.lr
    return g_optimiser, d_optimiser


def _hinge_real_fake(
    model: AdversarialModel, real: torch.Tensor, fake: torch.Tensor
) -> torch.Tensor:
    return discriminator_hinge_loss(model.discriminator(real), model.discriminator(fake))


def discriminator_hinge_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def generator_hinge_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]."""
    return -fake_logits.mean()
