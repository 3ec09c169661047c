"""A plain convolutional attribute classifier: the judge's architecture, unlike the black box's.

An independent judge should not share the black box's blind spots. Trained on other faces,
with other augmentation draws and its own seed, it still would if it shared the architecture
too: residual networks of one shape respond alike to the same high-frequency patterns. This
judge is a VGG-style stack without shortcuts: per stage two 3×3 convolutions with batch norm
and ReLU, then 2×2 max pooling, which pools differently from the ResNet's strided
convolutions; global average pooling and a linear head as every attribute classifier
(:class:`~lso.models.attribute_classifier.AttributeClassifier`).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from lso.models.attribute_classifier import AttributeClassifier


def _stage(channels_in: int, channels_out: int) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for channels in (channels_in, channels_out):
        layers += [
            nn.Conv2d(channels, channels_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
        ]
    return layers


class ConvClassifier(AttributeClassifier):
    """Stages of (conv-BN-ReLU) × 2 of the given widths, max pooling between stages."""

    kind = "conv_classifier"

    def __init__(
        self,
        n_classes: int = 6,
        widths: Sequence[int] = (16, 32, 64, 128),
        input_size: int = 64,
    ) -> None:
        super().__init__(n_classes, input_size, widths=list(widths))
        layers: list[nn.Module] = []
        channels = 3
        for stage, width in enumerate(widths):
            if stage > 0:
                layers.append(nn.MaxPool2d(2))
            layers += _stage(channels, width)
            channels = width
        self.trunk = nn.Sequential(*layers)
        self.finish(channels)
