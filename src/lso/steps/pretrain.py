"""The pretrain step: a generative model trained from scratch, its loss log and what its
samples figure shows (drawn by a figure job from ``samples.npz``, so editing a figure never
retrains a model)."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import torch

from lso.config.types import ModelSettings
from lso.core.datafiles import save_arrays
from lso.core.training import fit_and_save
from lso.models.base import LatentModel
from lso.models.build import build_model
from lso.models.fitting import FitSettings
from lso.models.registry import MODELS
from lso.optimizers.grid import latent_grid
from lso.runtime import job_device, seed_everything, training_images, unit_batch
from lso.tasks.registry import TASKS
from lso.utils import PathLike

MANIFOLD_GRID = 20
MANIFOLD_BOUNDS = 4.0


def pretrain(
    dataset_path: PathLike,
    spec: ModelSettings,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    samples: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
    feature_network: PathLike | None = None,
) -> None:
    """Train a model from scratch on the prepared data; write checkpoint, loss log, samples.

    A model type with a pretraining monitor (the GAN: samples of fixed latent points and
    Fréchet distances during training, in ``feature_network``'s features) saves what the
    monitor saw; the others save reconstructions and samples or, in 2-D, the decoded manifold.
    """
    device = job_device(device_name, precision)
    seed_everything(spec.seed)
    data = TASKS.load(MODELS.traits(spec.type).family)(dataset_path, compact=True)
    model = build_model(spec.type, {"latent_dim": spec.latent_dim, **spec.hparams})
    model.to(device)
    train = training_images(data["train_images"], device)  # faces: 8-bit, once, on the host
    val = training_images(data["val_images"], device)
    settings = FitSettings(
        epochs=spec.epochs,
        batch_size=spec.batch_size,
        lr=spec.lr,
        use_plateau_scheduler=True,
        lr_decay=spec.lr_decay,
    )
    monitor_module = MODELS.traits(spec.type).monitor
    monitor = None
    if monitor_module is not None:
        monitor_class = importlib.import_module(monitor_module).PretrainingMonitor
        monitor = monitor_class(model, train, feature_network)
    fit_and_save(
        model,
        train,
        settings,
        seed=spec.seed,
        checkpoint=checkpoint,
        train_log=train_log,
        val_images=val,
        description="pretrain",
        progress=monitor,
    )
    arrays = monitor.arrays() if monitor is not None else _model_samples(model, val, device)
    save_arrays(samples, arrays)


@torch.no_grad()
def _model_samples(model: LatentModel, val: torch.Tensor, device: torch.device) -> dict[str, Any]:
    """Reconstructions of validation images; for 2-D latents the decoded manifold, otherwise
    decodings of prior samples (what the optimiser's candidates look like)."""
    originals = unit_batch(val, slice(0, 10), device)
    means, _ = model.encode(originals)
    arrays = {
        "originals": originals.cpu().numpy(),
        "reconstructions": model.decode(means).cpu().numpy(),
    }
    if model.latent_dim != 2:
        generator = torch.Generator().manual_seed(0)
        z = model.prior_sample(20, generator).to(device)
        return {
            "kind": np.asarray("reconstructions"),
            **arrays,
            "samples": model.decode(z).cpu().numpy(),
        }
    grid = latent_grid(MANIFOLD_BOUNDS, MANIFOLD_GRID)
    decoded = model.decode(torch.as_tensor(grid, dtype=torch.float32, device=device))
    return {
        "kind": np.asarray("overview"),
        **arrays,
        "manifold": decoded.cpu().numpy(),
        "bounds": np.asarray(MANIFOLD_BOUNDS),
    }
