"""Watching a pretraining that has no reconstructions to show (a GAN): samples of fixed latent
points at a few moments, and the Fréchet distance of fresh samples to the training images.

The pretrain step loads this module only for model types whose registry entry names it
(:class:`lso.models.registry.ModelTraits`), so it is a code input of those models' pretraining
alone. It returns arrays; the figure is drawn by a figure job from the saved file.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from lso.core.metrics import frechet_distance_between
from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint
from lso.runtime import model_device, unit_batch
from lso.utils import PathLike

logger = logging.getLogger(__name__)
SNAPSHOTS = 4
FD_SAMPLES = 500
FIXED_POINTS = 10
FEATURE_BATCH = 256


class PretrainingMonitor:
    """Samples of 10 fixed latent points, and the FD of 500 fresh samples, during training.

    Called after every step with (step, total); acts at ``SNAPSHOTS`` evenly spaced steps, the
    last one included. Its draws use a generator of their own, and the model returns to
    training mode afterwards, so watching does not change what is trained. The features are
    the penultimate activations of ``feature_network`` (the judge's checkpoint, as
    the Snakefile passes it: the network the optimiser never attacks),
    when one is given.
    """

    def __init__(
        self, model: LatentModel, train: torch.Tensor, feature_network: PathLike | None
    ) -> None:
        self.model = model
        self.device = model_device(model)
        generator = torch.Generator().manual_seed(0)
        self.fixed = torch.randn(FIXED_POINTS, model.latent_dim, generator=generator)
        self.fixed = self.fixed.to(self.device)
        self.fd_latents = torch.randn(FD_SAMPLES, model.latent_dim, generator=generator)
        self.network = None
        if feature_network is not None:
            self.network = load_checkpoint(feature_network, self.device)
            chosen = torch.randperm(len(train), generator=generator)[:FD_SAMPLES]
            self.reference = self._features(unit_batch(train, chosen, self.device).cpu().numpy())
        self.rows: list[np.ndarray] = []
        self.labels: list[str] = []

    def __call__(self, step: int, total: int) -> None:
        due = {max(1, round(total * (i + 1) / SNAPSHOTS)) for i in range(SNAPSHOTS)}
        if step not in due:
            return
        with self.model.evaluating(), torch.no_grad():
            self.rows.append(self.model.decode(self.fixed).cpu().numpy())
            label = f"step {step}"
            if self.network is not None:
                fd = frechet_distance_between(self._features(self._samples()), self.reference)
                label += f"\nFD {fd:.1f}"
                logger.info(
                    "pretrain step %d/%d: Fréchet distance of %d samples to training faces %.2f",
                    step,
                    total,
                    FD_SAMPLES,
                    fd,
                )
        self.labels.append(label)

    def arrays(self) -> dict[str, np.ndarray]:
        """What the samples figure draws: one row of images per moment, with its label."""
        return {
            "kind": np.asarray("rows"),
            "rows": np.stack(self.rows),
            "labels": np.asarray(self.labels),
        }

    def _samples(self) -> np.ndarray:
        parts = [self.model.query_images(z.to(self.device)) for z in self.fd_latents.split(250)]
        return torch.cat(parts).cpu().numpy()

    def _features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate activations (n, F) in float64, in evaluation mode and fixed batches."""
        assert self.network is not None
        parts = []
        with torch.no_grad(), self.network.evaluating():
            for start in range(0, len(images), FEATURE_BATCH):
                batch = torch.as_tensor(images[start : start + FEATURE_BATCH], device=self.device)
                parts.append(self.network.features(batch.float()).cpu().double().numpy())
        return np.concatenate(parts)
