"""A small ResNet attribute classifier for colour faces (the smile predictor and its judge).

The thesis scored faces with a ResNet-50 on bicubically upscaled 128×128 inputs with ImageNet
normalisation. torchvision cannot be a dependency here, so the network is written out: basic
residual blocks (two 3×3 convolutions with batch norm, a 1×1 projection where the shape
changes), stages of configurable widths and depths, global average pooling and a linear head.
The defaults are a narrow network that trains on a CPU; ``widths=(64, 128, 256, 512)`` with
``blocks=(2, 2, 2, 2)`` is ResNet-18's shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lso.models.base import TrainableModule

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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


class ResNetClassifier(TrainableModule):
    """Images (n, 3, H, W) in [0, 1] -> logits (n, n_classes).

    Inputs are resized (bicubic) to ``input_size`` and normalised with ImageNet's statistics
    inside the model, so callers pass the images as the generative models decode them. The
    ``temperature`` buffer (1 until :func:`lso.predictor.train_predictor` fits it) travels in
    the checkpoint, so whoever loads the predictor gets its calibrated probabilities; the logits
    themselves stay unscaled, as training needs them.
    """

    kind = "resnet_classifier"
    # torch 2.13's CPU backward of a channels-last strided 1x1 convolution from <= 8 channels
    # at 64x64 writes out of bounds (a segfault or "free(): invalid next size"); the small
    # predictors of the tests and .test config hit exactly that shape, so keep NCHW.
    channels_last = False

    def __init__(
        self,
        n_classes: int = 6,
        widths: Sequence[int] = (16, 32, 64, 128),
        blocks: Sequence[int] = (1, 1, 1, 1),
        input_size: int = 64,
    ) -> None:
        super().__init__(
            n_classes=n_classes, widths=list(widths), blocks=list(blocks), input_size=input_size
        )
        self.input_size = int(input_size)
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, 1, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        stages: list[nn.Module] = []
        channels = widths[0]
        for stage, (width, depth) in enumerate(zip(widths, blocks, strict=True)):
            for block in range(depth):
                stride = 2 if stage > 0 and block == 0 else 1
                stages.append(BasicBlock(channels, width, stride))
                channels = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(channels, n_classes)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.register_buffer("temperature", torch.ones(()))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled activations of the last stage (n, widths[-1])."""
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            size = (self.input_size, self.input_size)
            x = F.interpolate(x, size=size, mode="bicubic", align_corners=False)
        x = (x - self.mean) / self.std
        return self.stages(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Cross-entropy of the labels ``y``; accuracy is logged alongside."""
        logits = self(x)
        return {
            "loss": F.cross_entropy(logits, y.long()),
            "accuracy": (logits.argmax(1) == y).float().mean(),
        }

    @torch.no_grad()
    def predict_logits(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Logits in evaluation mode (batch norm's running statistics, whatever the batch)."""
        with self.evaluating():
            return torch.cat([self(chunk) for chunk in x.split(batch_size)])
