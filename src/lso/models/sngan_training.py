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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from lso.models.fitting import (
    FitSettings,
    Progress,
    batch_indices,
    batches_per_epoch,
    lr_decay_scheduler,
)

if TYPE_CHECKING:
    from lso.models.sngan import SNGAN

logger = logging.getLogger(__name__)
BETAS = (0.0, 0.9)


def generator_steps(n_images: int, settings: FitSettings, n_dis: int) -> int:
    """Generator steps for ``settings.epochs`` passes of real batches through the critic."""
    per_epoch = batches_per_epoch(n_images, settings.batch_size)
    return max(1, round(settings.epochs * per_epoch / n_dis))


def train_adversarially(
    model: SNGAN,
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
    device = images.device
    per_epoch = batches_per_epoch(len(images), settings.batch_size)
    steps = generator_steps(len(images), settings, model.n_dis)
    real_settings = FitSettings(
        epochs=steps * model.n_dis / per_epoch,
        batch_size=settings.batch_size,
        lr=settings.lr,
    )
    real_batches = batch_indices(len(images), real_settings, weights, generator)
    g_optimiser, d_optimiser = _optimisers(model, settings)
    schedulers = [
        lr_decay_scheduler(opt, settings.lr_decay, steps) for opt in (g_optimiser, d_optimiser)
    ]
    batch = min(settings.batch_size, len(images))
    rows = []
    model.train()
    for step in tqdm(range(steps), desc=description, leave=False, disable=None):
        for index in real_batches[step * model.n_dis : (step + 1) * model.n_dis]:
            real = images[index.to(device)]
            with torch.no_grad():
                fake = model.generator(_latents(batch, model.latent_dim, generator, device))
            d_loss = _hinge_real_fake(model, real, fake)
            d_optimiser.zero_grad(set_to_none=True)
            d_loss.backward()
            d_optimiser.step()
        fake_logits = model.discriminator(
            model.generator(_latents(batch, model.latent_dim, generator, device))
        )
        g_loss = generator_hinge_loss(fake_logits)
        g_optimiser.zero_grad(set_to_none=True)
        g_loss.backward()
        g_optimiser.step()
        for scheduler in schedulers:
            if scheduler is not None:
                scheduler.step()
        if progress is not None:
            progress(step + 1, steps)
        rows.append(
            {
                "step": step + 1,
                "epoch": (step + 1) * model.n_dis / per_epoch,
                "split": "train",
                "loss": d_loss.item(),
                "d_loss": d_loss.item(),
                "g_loss": g_loss.item(),
                "lr": g_optimiser.param_groups[0]["lr"],
            }
        )
    model.optimiser_state = (
        {"generator": g_optimiser.state_dict(), "discriminator": d_optimiser.state_dict()}
        if settings.keep_optimizer_state
        else {}
    )
    model.eval()
    logger.info(
        "%s: %d generator steps, final d_loss %.3f g_loss %.3f",
        description,
        steps,
        d_loss.item(),
        g_loss.item(),
    )
    return pd.DataFrame(rows)


def _optimisers(model: SNGAN, settings: FitSettings) -> tuple[torch.optim.Adam, torch.optim.Adam]:
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


def _hinge_real_fake(model: SNGAN, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return discriminator_hinge_loss(model.discriminator(real), model.discriminator(fake))


def discriminator_hinge_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def generator_hinge_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]."""
    return -fake_logits.mean()


def _latents(
    n: int, latent_dim: int, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    return torch.randn(n, latent_dim, generator=generator).to(device)
