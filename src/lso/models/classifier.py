"""The thesis's MNIST CNN classifier, used as the black-box oracle of conditional generation.

The blog scores decoded images with a separately trained classifier, so that the objective
does not trust the generative model's own predictor. The thesis ships such a classifier
(``MNISTClassifier``) although none of its experiments use it; we take its architecture. Its
128-d penultimate layer also serves as the feature space of Fréchet distances between sets
of digits (an MNIST analogue of FID's Inception features).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lso.models.base import TrainableModule

N_CLASSES = 10
FEATURE_DIM = 128


def _conv_block(channels_in: int, channels_out: int, dropout: float) -> nn.Sequential:
    """Two 3x3 convolutions and a 5x5 stride-2 one (halving the side), each ReLU -> BatchNorm."""
    layers: list[nn.Module] = []
    for index, (kernel, stride) in enumerate(((3, 1), (3, 1), (5, 2))):
        layers += [
            nn.Conv2d(
                channels_in if index == 0 else channels_out,
                channels_out,
                kernel,
                stride,
                padding=kernel // 2,
            ),
            nn.ReLU(),
            nn.BatchNorm2d(channels_out),
        ]
    return nn.Sequential(*layers, nn.Dropout(dropout))


class MnistClassifier(TrainableModule):
    """CNN: 1x28x28 -> 32x14x14 -> 64x7x7 -> 128 features -> 10 log-probabilities.

    Not a :class:`~lso.models.base.LatentModel`, but a :class:`TrainableModule`, so the same
    fit loop trains it (with labels) and the same checkpoint functions store it. Load it with
    ``load_checkpoint(path, device, expected=MnistClassifier)``.
    """

    kind = "classifier"

    def __init__(self, dropout: float = 0.4) -> None:
        super().__init__(dropout=dropout)
        self.trunk = nn.Sequential(
            _conv_block(1, 32, dropout),
            _conv_block(32, 64, dropout),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, FEATURE_DIM),
            nn.ReLU(),
            nn.BatchNorm1d(FEATURE_DIM),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(FEATURE_DIM, N_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities (n, 10) of images (n, 28, 28) with pixels in [0, 1]."""
        return F.log_softmax(self.head(self.trunk(x.unsqueeze(1))), dim=1)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Negative log-likelihood of the labels ``y``; accuracy is logged alongside."""
        log_probs = self(x)
        nll = F.nll_loss(log_probs, y.long())
        accuracy = (log_probs.argmax(dim=1) == y).float().mean()
        return {"loss": nll, "accuracy": accuracy}

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        """Class probabilities (n, 10), always computed in evaluation mode."""
        with self.evaluating():
            return torch.cat([self(chunk).exp() for chunk in x.split(batch_size)])

    @torch.no_grad()
    def features(self, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        """The 128-d penultimate activations (n, 128), in evaluation mode."""
        with self.evaluating():
            return torch.cat([self.trunk(chunk.unsqueeze(1)) for chunk in x.split(batch_size)])
