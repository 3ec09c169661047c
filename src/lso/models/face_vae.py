"""The thesis's CelebA VAE (``CelebaVAE``): 64x64 colour faces, Gaussian reconstruction.

Encoder: one 3x3 stride-2 convolution per entry of ``widths`` (64 -> 32 -> ...), a flatten and
one linear layer to the mean and log standard deviation. Decoder: a linear layer back to the
smallest feature map, one 3x3 stride-2 transposed convolution per width (the last keeps
``widths[0]`` channels at 64x64), and a 3x3 convolution to three channels and a sigmoid.
Every layer but the two output layers is followed by LeakyReLU and *then* batch norm, the
thesis's order. The thesis's widths are (32, 64, 128, 256, 512): five stages, a 512x2x2 map,
2048 features.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lso.models.annealing import AnnealedBeta
from lso.models.base import LatentModel
from lso.utils import InputError

IMAGE_SIZE = 64
THESIS_WIDTHS = (32, 64, 128, 256, 512)


def _bottom_side(widths: Sequence[int]) -> int:
    """Side of the smallest feature map: each stage halves the 64x64 input."""
    if not 1 <= len(widths) <= 6:
        raise InputError(f"face_vae widths need 1 to 6 stages (64 halved each), got {widths}")
    return IMAGE_SIZE >> len(widths)


def _leaky_then_norm(channels: int, norm: type[nn.Module] = nn.BatchNorm2d) -> list[nn.Module]:
    """LeakyReLU before batch norm, as the thesis orders them (the usual order is reversed)."""
    return [nn.LeakyReLU(), norm(channels)]


def _encoder(widths: Sequence[int], latent_dim: int) -> nn.Sequential:
    """Images (n, 3, 64, 64) -> (n, 2 * latent_dim): the mean, then the log std."""
    layers: list[nn.Module] = []
    channels = 3
    for width in widths:
        layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), *_leaky_then_norm(width)]
        channels = width
    side = _bottom_side(widths)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * side * side, 2 * latent_dim))


def _decoder(widths: Sequence[int], latent_dim: int) -> nn.Sequential:
    """Latent codes (n, latent_dim) -> pixel logits (n, 3, 64, 64)."""
    side = _bottom_side(widths)
    channels = widths[-1]
    layers: list[nn.Module] = [
        nn.Linear(latent_dim, channels * side * side),
        *_leaky_then_norm(channels * side * side, nn.BatchNorm1d),
        nn.Unflatten(1, (channels, side, side)),
    ]
    for width in [*reversed(widths[:-1]), widths[0]]:
        layers += [
            nn.ConvTranspose2d(channels, width, 3, stride=2, padding=1, output_padding=1),
            *_leaky_then_norm(width),
        ]
        channels = width
    return nn.Sequential(*layers, nn.Conv2d(channels, 3, 3, padding=1))


class FaceVAE(AnnealedBeta, LatentModel):
    """VAE of 64x64 colour faces with an N(0, I) prior and the annealed KL weight of BinaryVAE.

    Reconstruction is the thesis's sum of squared errors between the sigmoid output and the
    image, averaged over the batch: twice the negative log-likelihood of a unit-variance
    Gaussian up to a constant. The factor is kept because the thesis tuned ``beta_final``
    (0.21471) against that scale.

    beta starts at ``beta_start``; after ``beta_warmup_steps`` optimiser steps it is multiplied
    by ``beta_step_factor`` every ``beta_step_every`` steps until it reaches ``beta_final``.
    The current beta and the step counter are buffers, so they travel with the checkpoint.
    """

    kind = "face_vae"
    image_shape = (3, IMAGE_SIZE, IMAGE_SIZE)
    binary = False

    def __init__(
        self,
        latent_dim: int = 64,
        widths: Sequence[int] = THESIS_WIDTHS,
        beta_start: float = 1e-6,
        beta_final: float = 0.21471,
        beta_warmup_steps: int = 5000,
        beta_step_factor: float = 1.1,
        beta_step_every: int = 50,
    ) -> None:
        super().__init__(
            latent_dim=latent_dim,
            widths=[int(width) for width in widths],
            beta_start=beta_start,
            beta_final=beta_final,
            beta_warmup_steps=beta_warmup_steps,
            beta_step_factor=beta_step_factor,
            beta_step_every=beta_step_every,
        )
        self.encoder = _encoder(self.hparams["widths"], latent_dim)
        self.decoder = _decoder(self.hparams["widths"], latent_dim)
        self.register_beta(beta_start)

    def _posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z | x) in the current (train or eval) mode."""
        mean, log_std = self.encoder(x).chunk(2, dim=1)
        return mean, 2.0 * log_std

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, with batch norm's running statistics.

        In training mode batch norm would make a code depend on the rest of the batch.
        """
        with self.evaluating():
            return self._posterior(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean images (n, 3, 64, 64) in [0, 1] (the thesis's sigmoid), in evaluation mode.

        Evaluation mode makes the image of a latent point independent of the other points
        decoded with it; training-mode batch norm would also fail on a single point.
        """
        with self.evaluating():
            return torch.sigmoid(self.decoder(z))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mean, log_var = self._posterior(x)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        recon = F.mse_loss(torch.sigmoid(self.decoder(z)), x, reduction="sum") / x.shape[0]
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum() / x.shape[0]
        return self.weighted_elbo(recon, kl)
