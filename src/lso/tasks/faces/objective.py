"""The faces black box: a predictor's calibrated expected attribute level (Σ c·p_c).

The thesis's black box is the expected smile level under a ResNet's softmax on CelebA-Dialog's
Smiling levels. The temperature fitted after training (:mod:`lso.tasks.faces.calibration`)
travels in the checkpoint, so every job that loads the predictor scores with the same
calibrated probabilities.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from lso.models.attribute_classifier import AttributeClassifier
from lso.models.checkpoint import load_checkpoint
from lso.runtime import inference_batch_size, mixed_precision
from lso.tasks.faces.calibration import expected_level
from lso.utils import InputError, PathLike


class SmileObjective:
    """The black box of the faces runs: a predictor's calibrated expected attribute level.

    Called on colour images (n, 3, H, W) in [0, 1] it returns Σ c·p_c under the
    temperature-scaled softmax, in [0, n_classes - 1] (0–5 for the smile levels). It always
    evaluates in evaluation mode and in fixed-size batches, so a face's score does not depend
    on the faces scored with it.
    """

    def __init__(self, model: AttributeClassifier, batch_size: int = 256) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = next(model.parameters()).device

    @classmethod
    def load(cls, path: PathLike, device: torch.device | str) -> SmileObjective:
        """The objective of the predictor checkpoint at ``path``, on ``device``."""
        return cls(
            load_checkpoint(path, device, expected=AttributeClassifier),
            inference_batch_size(device, 256),
        )

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Expected level of every image, float64 (n,)."""
        temperature = float(self.model.temperature)
        return self._batched(images, lambda x: expected_level(self.model(x), temperature))

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Unscaled logits (n, n_classes); divide by ``temperature`` for the calibrated ones."""
        return self._batched(images, self.model)

    @property
    def temperature(self) -> float:
        return float(self.model.temperature)

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate (globally pooled) activations (n, F), for Fréchet distances."""
        return self._batched(images, self.model.features)

    def _batched(
        self, images: np.ndarray, function: Callable[[torch.Tensor], torch.Tensor]
    ) -> np.ndarray:
        """``function`` of the images, batch by batch (an empty input is one empty batch)."""
        images = _checked_images(images)
        outputs = []
        with torch.no_grad(), self.model.evaluating(), mixed_precision():
            for start in range(0, max(len(images), 1), self.batch_size):
                batch = torch.as_tensor(images[start : start + self.batch_size], device=self.device)
                outputs.append(function(batch.float()).cpu().double().numpy())
        return np.concatenate(outputs)


def _checked_images(images: np.ndarray) -> np.ndarray:
    """Float colour images (n, 3, H, W); 8-bit ones are refused, as 0–255 would be misread."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != 3 or not np.issubdtype(images.dtype, np.floating):
        raise InputError(
            "the smile objective needs float images in [0, 1] of shape (n, 3, H, W), e.g. "
            f"(n, 3, 64, 64); got {images.dtype} {images.shape}"
        )
    return images
