"""What the faces attribute predictors share, whatever their trunk: the black box and the judge.

Images (n, 3, H, W) in [0, 1] are resized (bicubic) to ``input_size`` and normalised with
ImageNet's statistics inside the model, so callers pass images as the generative models decode
them. A trunk maps them to feature maps; global average pooling gives the features (used for
distances between image sets) and a linear head the logits. The ``temperature`` buffer (1
until training fits it) travels in the checkpoint, so whoever loads a predictor gets its
calibrated probabilities; the logits themselves stay unscaled, as training needs them.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lso.models.base import TrainableModule

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class AttributeClassifier(TrainableModule):
    """A classifier of attribute levels: subclasses build ``self.trunk`` (3 -> C channels)
    and call :meth:`finish` with C."""

    trunk: nn.Module

    def __init__(self, n_classes: int, input_size: int, **hparams: Any) -> None:
        super().__init__(n_classes=n_classes, input_size=input_size, **hparams)
        self.input_size = int(input_size)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.register_buffer("temperature", torch.ones(()))

    def finish(self, channels: int) -> None:
        """The linear head on ``channels`` pooled features (after the trunk is built)."""
        self.head = nn.Linear(channels, self.hparams["n_classes"])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled activations of the trunk (n, C)."""
        x = resized(x, self.input_size)
        x = (x - self.mean) / self.std
        return self.trunk(x).mean(dim=(2, 3))

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


def resized(images: torch.Tensor, side: int) -> torch.Tensor:
    """Images resized to ``side`` x ``side`` (bicubic). Shrinking is antialiased: the face is
    low-passed first, so detail finer than the network's pixels cannot alias into its input
    (an optimiser could otherwise write a pattern the network reads but nobody sees)."""
    if images.shape[-2:] == (side, side):
        return images
    return F.interpolate(
        images, size=(side, side), mode="bicubic", align_corners=False, antialias=True
    )
