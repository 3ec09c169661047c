"""Binary-MNIST VAE and RAE of the thesis (28x28 inputs, Bernoulli likelihood).

Encoder and decoder follow the thesis's ``MnistBinVAE``: four 3x3 convolutions down to
64x7x7, two linear layers to the latent code, and the mirrored transposed convolutions back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lso.models.annealing import AnnealedBeta
from lso.models.base import BernoulliImageModel, LatentModel


def _encoder_trunk() -> nn.Sequential:
    """Convolutions 1x28x28 -> 64x7x7 -> 32 features, shared by the VAE and the RAE."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, stride=1, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 32),
        nn.ReLU(),
    )


def _decoder(latent_dim: int) -> nn.Sequential:
    """Latent code -> logits 1x28x28."""
    return nn.Sequential(
        nn.Linear(latent_dim, 32),
        nn.ReLU(),
        nn.Linear(32, 64 * 7 * 7),
        nn.ReLU(),
        nn.Unflatten(1, (64, 7, 7)),
        nn.ConvTranspose2d(64, 64, 3, stride=1, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 3, stride=1, padding=1),
    )


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Negative Bernoulli log-likelihood summed over pixels, averaged over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def gaussian_encode(encoder: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and log-variance of q(z | x); the encoder outputs the mean and a log std."""
    mean, log_std = encoder(x.unsqueeze(1)).chunk(2, dim=1)
    return mean, 2.0 * log_std


def elbo_terms(
    model: LatentModel, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Encoder mean, reconstruction NLL of one reparameterised sample, and KL to N(0, I).

    The two terms of the negative ELBO of every VAE here (the thesis's and the blog's joint
    one), each averaged over the batch.
    """
    mean, log_var = model.encode(x)
    z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
    recon = bernoulli_nll(model.decode_logits(z), x.unsqueeze(1))
    kl = 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum() / x.shape[0]
    return mean, recon, kl


class BinaryVAE(AnnealedBeta, BernoulliImageModel):
    """VAE with a Gaussian posterior, N(0, I) prior and an annealed KL weight beta.

    beta starts at ``beta_start``; after ``beta_warmup_steps`` optimiser steps it is multiplied
    by ``beta_step_factor`` every ``beta_step_every`` steps until it reaches ``beta_final``.
    The current beta and the step counter are buffers, so they travel with the checkpoint.
    """

    kind = "vae"
    image_shape = (28, 28)

    def __init__(
        self,
        latent_dim: int,
        beta_start: float = 1e-6,
        beta_final: float = 10.0,
        beta_warmup_steps: int = 1000,
        beta_step_factor: float = 1.1,
        beta_step_every: int = 10,
    ) -> None:
        super().__init__(
            latent_dim=latent_dim,
            beta_start=beta_start,
            beta_final=beta_final,
            beta_warmup_steps=beta_warmup_steps,
            beta_step_factor=beta_step_factor,
            beta_step_every=beta_step_every,
        )
        self.encoder = nn.Sequential(_encoder_trunk(), nn.Linear(32, 2 * latent_dim))
        self.decoder = _decoder(latent_dim)
        self.register_beta(beta_start)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return gaussian_encode(self.encoder, x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        _, recon, kl = elbo_terms(self, x)
        return self.weighted_elbo(recon, kl)


class BinaryRAE(BernoulliImageModel):
    """Regularised autoencoder (Ghosh et al. 2020): deterministic codes, no prior.

    Loss = Bernoulli NLL + ``latent_weight`` * mean ||z||^2 + ``decoder_weight`` * sum of
    squared decoder parameters. Without a prior, the latent density used to constrain the
    search is fitted after training (``gmm_fit``).
    """

    kind = "rae"
    image_shape = (28, 28)

    def __init__(
        self,
        latent_dim: int,
        latent_weight: float = 1.0,
        decoder_weight: float = 1.0,
        plateau_factor: float = 0.5,
        plateau_patience: int = 5,
    ) -> None:
        super().__init__(
            latent_dim=latent_dim,
            latent_weight=latent_weight,
            decoder_weight=decoder_weight,
            plateau_factor=plateau_factor,
            plateau_patience=plateau_patience,
        )
        self.encoder = nn.Sequential(_encoder_trunk(), nn.Linear(32, latent_dim))
        self.decoder = _decoder(latent_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.encoder(x.unsqueeze(1)), None

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z, _ = self.encode(x)
        recon = bernoulli_nll(self.decode_logits(z), x.unsqueeze(1))
        latent_norm = z.pow(2).sum(dim=1).mean()
        decoder_norm = sum(p.pow(2).sum() for p in self.decoder.parameters())
        loss = (
            recon
            + self.hparams["latent_weight"] * latent_norm
            + self.hparams["decoder_weight"] * decoder_norm
        )
        return {
            "loss": loss,
            "recon": recon,
            "latent_norm": latent_norm,
            "decoder_norm": decoder_norm,
        }

    def plateau_scheduler(
        self, optimiser: torch.optim.Optimizer
    ) -> torch.optim.lr_scheduler.ReduceLROnPlateau:
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimiser,
            factor=self.hparams["plateau_factor"],
            patience=self.hparams["plateau_patience"],
        )
