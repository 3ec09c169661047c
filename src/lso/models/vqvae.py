"""The thesis's CelebA VQ-VAE (``CelebaVQVAE``, van den Oord et al. 2017): discrete latents.

Encoder: one 4x4 stride-2 convolution per entry of ``widths`` (each halves the side), a 3x3
convolution, ``n_residual`` residual layers (3x3 then 1x1, no bias, identity skip) and a 1x1
convolution to ``embedding_dim`` channels; every layer but the residual ones ends in a
LeakyReLU. The thesis's widths (64, 128, 256) map a 64x64 face to an 8x8 grid of 64-d vectors.
Quantiser: each vector becomes its nearest codebook entry (L2) of ``codebook_size``; gradients
pass straight through; loss = ``commitment`` * ||z_e - sg[q]||^2 + ||sg[z_e] - q||^2.
Decoder: the mirror image, transposed 4x4 stride-2 convolutions and a sigmoid.

The latent point the optimisers see is the grid of code indices, flattened row-major
(``latent_dim`` = grid cells, ``latent_kind = "codes"``). The networks are convolutional,
so :meth:`VQVAE.decode_indices` decodes a grid of any size (the original hard-coded 8x8).

Dead codes: a code no batch has chosen for ``dead_after`` training steps is re-initialised to
a random encoder output of the current batch (as in Dhariwal et al.'s Jukebox), so the
codebook keeps ``codebook_size`` usable entries instead of collapsing onto a few. Each step's
loss terms log the batch's perplexity (exp of the code-usage entropy) and the number of codes
it used.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lso.models.base import LatentModel
from lso.utils import InputError

IMAGE_SIZE = 64
THESIS_WIDTHS = (64, 128, 256)


class Residual(nn.Module):
    """x + conv1x1(relu(conv3x3(relu(x)))), without biases, as the thesis's residual layer."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def _grid_side(widths: Sequence[int]) -> int:
    if not 1 <= len(widths) <= 5:
        raise InputError(f"vq_vae widths need 1 to 5 stages (64 px halved each), got {widths}")
    return IMAGE_SIZE >> len(widths)


def _encoder(widths: Sequence[int], n_residual: int, embedding_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for width in widths:
        layers += [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU()]
        channels = width
    layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.LeakyReLU()]
    layers += [Residual(channels) for _ in range(n_residual)]
    layers += [nn.LeakyReLU(), nn.Conv2d(channels, embedding_dim, 1), nn.LeakyReLU()]
    return nn.Sequential(*layers)


def _decoder(widths: Sequence[int], n_residual: int, embedding_dim: int) -> nn.Sequential:
    channels = widths[-1]
    layers: list[nn.Module] = [nn.Conv2d(embedding_dim, channels, 3, padding=1), nn.LeakyReLU()]
    layers += [Residual(channels) for _ in range(n_residual)]
    layers.append(nn.LeakyReLU())
    for width in reversed(widths[:-1]):
        layers += [nn.ConvTranspose2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU()]
        channels = width
    layers += [nn.ConvTranspose2d(channels, 3, 4, stride=2, padding=1), nn.Sigmoid()]
    return nn.Sequential(*layers)


class VQVAE(LatentModel):
    """VQ-VAE over 64x64 colour faces with a grid of code indices as its latent point."""

    kind = "vq_vae"
    image_shape = (3, IMAGE_SIZE, IMAGE_SIZE)
    latent_kind = "codes"
    retrain_diagnostics = ("codes_used", "perplexity")
    channels_last = False  # 1x1 convolutions from few channels: see lso.models.resnet

    def __init__(
        self,
        latent_dim: int | None = None,
        widths: Sequence[int] = THESIS_WIDTHS,
        n_residual: int = 2,
        embedding_dim: int = 64,
        codebook_size: int = 256,
        commitment: float = 0.25,
        dead_after: int = 100,
    ) -> None:
        side = _grid_side(widths)
        if latent_dim is not None and latent_dim != side * side:
            raise InputError(
                f"vq_vae latent_dim is the number of grid cells: widths {list(widths)} give a "
                f"{side}x{side} grid, so latent_dim {side * side}, not {latent_dim}"
            )
        super().__init__(
            latent_dim=side * side,
            widths=list(widths),
            n_residual=n_residual,
            embedding_dim=embedding_dim,
            codebook_size=codebook_size,
            commitment=commitment,
            dead_after=dead_after,
        )
        self.grid_side = side
        self.codebook_size = int(codebook_size)
        self.commitment = float(commitment)
        self.dead_after = int(dead_after)
        self.encoder = _encoder(widths, n_residual, embedding_dim)
        self.decoder = _decoder(widths, n_residual, embedding_dim)
        self.codebook = nn.Embedding(codebook_size, embedding_dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / codebook_size, 1.0 / codebook_size)
        self.register_buffer("steps_unused", torch.zeros(codebook_size, dtype=torch.int64))
        self._last_encodings: torch.Tensor | None = None
        self._last_used: torch.Tensor | None = None

    # --- indices <-> vectors -------------------------------------------------------------

    def nearest_codes(self, z_e: torch.Tensor) -> torch.Tensor:
        """Index of the nearest codebook entry of each vector: (n, D, h, w) -> (n, h, w)."""
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])
        distances = torch.cdist(flat, self.codebook.weight)
        return distances.argmin(dim=1).view(z_e.shape[0], z_e.shape[2], z_e.shape[3])

    def embed(self, indices: torch.Tensor) -> torch.Tensor:
        """Codebook vectors of an index grid: (n, h, w) -> (n, D, h, w), any h and w."""
        if indices.dtype.is_floating_point:
            indices = indices.round().long()
        if indices.numel() and (indices.min() < 0 or indices.max() >= self.codebook_size):
            raise InputError(
                f"code indices must lie in 0..{self.codebook_size - 1}, got "
                f"{int(indices.min())}..{int(indices.max())}"
            )
        return self.codebook(indices).permute(0, 3, 1, 2)

    @torch.no_grad()
    def encode_indices(self, x: torch.Tensor) -> torch.Tensor:
        """The code grid of each image (n, h, w), int64."""
        with self.evaluating():
            return self.nearest_codes(self.encoder(x))

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Images decoded from a code grid of any size (n, h, w) -> (n, 3, 8h ... , 8w ...)."""
        with self.evaluating():
            return self.decoder(self.embed(indices))

    # --- the LatentModel interface ---------------------------------------------------------

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """The flattened code grid as floats (n, latent_dim): what the optimisers search."""
        return self.encode_indices(x).flatten(1).float(), None

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images of flattened code grids (n, latent_dim) of integer values."""
        return self.decode_indices(z.view(len(z), self.grid_side, self.grid_side))

    def prior_sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Grids of codes drawn uniformly (the VQ-VAE's prior, never trained here)."""
        return torch.randint(self.codebook_size, (n, self.latent_dim), generator=generator).float()

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z_e = self.encoder(x)
        indices = self.nearest_codes(z_e.detach())
        quantised = self.embed(indices)
        codebook_loss = F.mse_loss(quantised, z_e.detach())
        commitment_loss = F.mse_loss(z_e, quantised.detach())
        straight_through = z_e + (quantised - z_e).detach()
        recon = F.mse_loss(self.decoder(straight_through), x)
        vq = codebook_loss + self.commitment * commitment_loss
        self._remember(z_e, indices)
        counts = torch.bincount(indices.flatten(), minlength=self.codebook_size).double()
        probs = counts / counts.sum()
        entropy = -(probs[probs > 0] * probs[probs > 0].log()).sum()
        return {
            "loss": recon + vq,
            "recon": recon,
            "vq": vq,
            "perplexity": entropy.exp(),
            "codes_used": (counts > 0).sum().double(),
        }

    def _remember(self, z_e: torch.Tensor, indices: torch.Tensor) -> None:
        """Keep the batch's encoder outputs and used codes for :meth:`on_train_step`."""
        if self.training:
            self._last_encodings = z_e.detach().permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])
            self._last_used = torch.unique(indices)

    @torch.no_grad()
    def on_train_step(self) -> None:
        """Count steps each code went unused; re-initialise those unused ``dead_after`` steps
        to random encoder outputs of the last batch."""
        if self._last_used is None or self._last_encodings is None:
            return
        self.steps_unused += 1
        self.steps_unused[self._last_used] = 0
        dead = torch.nonzero(self.steps_unused >= self.dead_after).flatten()
        if len(dead):
            pick = torch.randint(len(self._last_encodings), (len(dead),), device=dead.device)
            self.codebook.weight[dead] = self._last_encodings[pick]
            self.steps_unused[dead] = 0
        self._last_used = self._last_encodings = None
