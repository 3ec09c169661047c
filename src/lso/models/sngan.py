"""The thesis's SN-GAN for 64x64 faces (Mimicry's SNGAN-64 shape, Miyato et al. 2018).

Generator: a linear layer from the latent to a ``width`` x 4 x 4 map, four residual blocks
that each double the side (bilinear upsampling; batch norm, ReLU, two 3x3 convolutions, a
1x1 learnable shortcut) and halve the channels, then batch norm, ReLU, a 3x3 convolution to
three channels and a sigmoid (the thesis replaced Mimicry's tanh so images lie in [0, 1]).

Discriminator: an "optimised" first block at ``width / 16`` channels and four residual blocks
that each double the channels and halve the side (average pooling), every convolution and the
final linear layer under spectral norm (one power iteration), ReLU, a global *sum* pool and a
linear layer to one logit. Trained with the hinge loss, ``n_dis`` discriminator steps per
generator step, Adam with betas (0, 0.9) (:mod:`lso.models.sngan_training`).

The thesis's width is 1024 (a GPU setting); the CPU default is far narrower. A GAN has no
encoder (``has_encoder = False``): the loop's surrogates learn from generated samples instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from lso.models.base import LatentModel
from lso.models.fitting import FitSettings, Progress
from lso.models.sngan_training import (
    discriminator_hinge_loss,
    generator_hinge_loss,
    train_adversarially,
)
from lso.utils import InputError

IMAGE_SIZE = 64
BOTTOM_SIDE = 4
N_BLOCKS = 4  # 4 -> 8 -> 16 -> 32 -> 64 in the generator


def _sn(module: nn.Module) -> nn.Module:
    return spectral_norm(module, n_power_iterations=1)


class GeneratorBlock(nn.Module):
    """BN, ReLU, x2 bilinear upsampling, conv 3x3, BN, ReLU, conv 3x3; 1x1 upsampled shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = _upsample(F.relu(self.norm1(x)))
        h = self.conv2(F.relu(self.norm2(self.conv1(h))))
        return h + self.shortcut(_upsample(x))


class DiscriminatorBlock(nn.Module):
    """ReLU, conv 3x3, ReLU, conv 3x3, average pool; shortcut 1x1 conv then pool.

    The first block ("optimised" in Mimicry) starts without a ReLU, since its input is the
    image, and pools before its shortcut convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, *, first: bool = False) -> None:
        super().__init__()
        self.first = first
        self.conv1 = _sn(nn.Conv2d(in_channels, out_channels, 3, padding=1))
        self.conv2 = _sn(nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.shortcut = _sn(nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)
        h = F.avg_pool2d(self.conv2(F.relu(self.conv1(h))), 2)
        if self.first:
            return h + self.shortcut(F.avg_pool2d(x, 2))
        return h + F.avg_pool2d(self.shortcut(x), 2)


def _upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def _channels(width: int) -> list[int]:
    """Generator channels from the 4x4 map to 64x64: width, width/2, ..., width/16."""
    if width < 16 or width % 16:
        raise InputError(
            f"sn_gan width must be a multiple of 16 (the last stage has width/16), got {width}"
        )
    return [width >> i for i in range(N_BLOCKS + 1)]


class Generator(nn.Module):
    def __init__(self, latent_dim: int, width: int) -> None:
        super().__init__()
        channels = _channels(width)
        self.width = width
        self.project = nn.Linear(latent_dim, BOTTOM_SIDE * BOTTOM_SIDE * width)
        self.blocks = nn.Sequential(
            *(GeneratorBlock(a, b) for a, b in zip(channels, channels[1:], strict=False))
        )
        self.head = nn.Sequential(
            nn.BatchNorm2d(channels[-1]),
            nn.ReLU(),
            nn.Conv2d(channels[-1], 3, 3, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(len(z), self.width, BOTTOM_SIDE, BOTTOM_SIDE)
        return self.head(self.blocks(h))


class Discriminator(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        channels = list(reversed(_channels(width)))  # width/16 ... width
        blocks = [DiscriminatorBlock(3, channels[0], first=True)]
        blocks += [DiscriminatorBlock(a, b) for a, b in zip(channels, channels[1:], strict=False)]
        self.blocks = nn.Sequential(*blocks)
        self.linear = _sn(nn.Linear(channels[-1], 1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The globally sum-pooled activations (n, width) the logit is a linear map of."""
        return F.relu(self.blocks(x)).sum(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x)).squeeze(1)


class SNGAN(LatentModel):
    """Generator and discriminator as one module, so one checkpoint and one state dict hold
    both (retraining continues the discriminator too), plus the Adam states that
    :mod:`lso.models.sngan_training` keeps across retrainings when asked (``extra_state``).
    """

    kind = "sn_gan"
    image_shape = (3, IMAGE_SIZE, IMAGE_SIZE)
    has_encoder = False
    # Channels-last 1x1 convolutions from few channels corrupt memory in torch 2.13's CPU
    # backward (see lso.models.resnet); the discriminator's first shortcut is one.
    channels_last = False
    trains_itself = True

    def __init__(
        self,
        latent_dim: int,
        generator_width: int = 1024,
        discriminator_width: int = 1024,
        n_dis: int = 5,
    ) -> None:
        super().__init__(
            latent_dim=latent_dim,
            generator_width=generator_width,
            discriminator_width=discriminator_width,
            n_dis=n_dis,
        )
        self.n_dis = int(n_dis)
        self.generator = Generator(self.latent_dim, int(generator_width))
        self.discriminator = Discriminator(int(discriminator_width))
        self.optimiser_state: dict[str, Any] = {}
        self._init_weights()

    def _init_weights(self) -> None:
        """Xavier-uniform weights and zero biases, as Mimicry initialises SNGAN."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                weight = getattr(module, "parametrizations", None)
                target = weight.weight.original if weight is not None else module.weight
                nn.init.xavier_uniform_(target)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)

    def discriminate(self, images: torch.Tensor) -> torch.Tensor:
        """The discriminator's logit per image (n,): higher means "more like the data"."""
        return self.discriminator(images)

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Hinge losses on a batch of real images and as many generated ones (for logs)."""
        z = torch.randn(len(x), self.latent_dim, device=x.device)
        fake = self.generator(z)
        real_logits, fake_logits = self.discriminator(x), self.discriminator(fake)
        d_loss = discriminator_hinge_loss(real_logits, fake_logits)
        return {"loss": d_loss, "d_loss": d_loss, "g_loss": generator_hinge_loss(fake_logits)}

    def train_itself(
        self,
        images: torch.Tensor,
        settings: FitSettings,
        *,
        generator: torch.Generator,
        weights: np.ndarray | None,
        description: str,
        progress: Progress | None = None,
    ) -> pd.DataFrame:
        return train_adversarially(
            self,
            images,
            settings,
            generator=generator,
            weights=weights,
            description=description,
            progress=progress,
        )

    def get_extra_state(self) -> dict[str, Any]:
        return self.optimiser_state

    def set_extra_state(self, state: Any) -> None:
        self.optimiser_state = dict(state or {})
