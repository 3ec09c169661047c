"""A small ResNet attribute classifier for colour faces (the thesis's smile predictor's kind).

The thesis scored faces with a ResNet-50 on bicubically upscaled 128×128 inputs with ImageNet
normalisation. torchvision cannot be a dependency here, so the network is written out: basic
residual blocks (two 3×3 convolutions with batch norm, a 1×1 projection where the shape
changes), stages of configurable widths and depths, global average pooling and a linear head
(:class:`~lso.models.attribute_classifier.AttributeClassifier`). The defaults are a narrow
network that trains on a CPU; ``widths=(64, 128, 256, 512)`` with ``blocks=(2, 2, 2, 2)`` is
ResNet-18's shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lso.models.attribute_classifier import AttributeClassifier

NARROWEST_SAFE_SHORTCUT = 8  # input channels of a strided 1x1 convolution: see channels_last


class BasicBlock(nn.Module):
    """x + F(x), F = conv-BN-ReLU-conv-BN; a strided 1×1 projection where the shape changes."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(channels_in, channels_out, 3, stride, padding=1, bias=False),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels_out, channels_out, 3, 1, padding=1, bias=False),
            nn.BatchNorm2d(channels_out),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels_in, channels_out, 1, stride, bias=False),
                nn.BatchNorm2d(channels_out),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.residual(x) + self.shortcut(x))


class ResNetClassifier(AttributeClassifier):
    """A stem convolution, then stages of basic blocks (the first of each later stage
    halving the side), pooled features and a linear head."""

    kind = "resnet_classifier"

    def __init__(
        self,
        n_classes: int = 6,
        widths: Sequence[int] = (16, 32, 64, 128),
        blocks: Sequence[int] = (1, 1, 1, 1),
        input_size: int = 64,
    ) -> None:
        super().__init__(n_classes, input_size, widths=list(widths), blocks=list(blocks))
        layers: list[nn.Module] = [
            nn.Conv2d(3, widths[0], 3, 1, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        channels = widths[0]
        for stage, (width, depth) in enumerate(zip(widths, blocks, strict=True)):
            for block in range(depth):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(BasicBlock(channels, width, stride))
                channels = width
        self.trunk = nn.Sequential(*layers)
        self.finish(channels)

    @property
    def channels_last(self) -> bool:  # type: ignore[override]
        """Channels-last makes training and scoring ~1.4x faster on a CPU, but torch 2.13's CPU
        backward of a channels-last strided 1x1 convolution from <= 8 channels at 64x64 writes
        out of bounds (a segfault or "free(): invalid next size"). The shortcuts read every
        stage's input width, so a ResNet with an early stage of 8 channels or fewer (the
        tests' small predictors) keeps NCHW."""
        return min(self.hparams["widths"][:-1], default=9) > NARROWEST_SAFE_SHORTCUT
