"""One fit loop for every model: (fractional) epochs, optional weighted resampling, loss log.

Pretraining shuffles the data each epoch. Retraining inside the optimisation loop draws every
batch with replacement in proportion to the data weights, as PyTorch's
``WeightedRandomSampler`` does in the original code, so a fraction of an epoch is simply a
number of such batches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from lso.models.base import TrainableModule
from lso.models.checkpoint import save_checkpoint
from lso.models.fitting import (
    FitSettings,
    Progress,
    batch_indices,
    batches_per_epoch,
    lr_decay_scheduler,
)
from lso.runtime import mixed_precision, model_device, unit_batch
from lso.utils import InputError, PathLike, atomic_path

logger = logging.getLogger(__name__)


@torch.no_grad()
def evaluate_loss(
    model: TrainableModule,
    images: torch.Tensor,
    batch_size: int = 512,
    targets: torch.Tensor | None = None,
) -> dict[str, float]:
    """Mean of every loss term over ``images`` (and their ``targets``), in evaluation mode;
    8-bit images are converted batch by batch (:func:`lso.runtime.unit_batch`)."""
    _check_targets("targets", images, targets)
    model.eval()
    device = model_device(model)
    sums: dict[str, float] = {}
    for start in range(0, len(images), batch_size):
        window = slice(start, start + batch_size)
        batch = unit_batch(images, window, device)
        with mixed_precision():
            terms = _batch_loss(model, batch, _rows(targets, window))
        for name, value in terms.items():
            sums[name] = sums.get(name, 0.0) + float(value) * len(batch)
    return {name: total / len(images) for name, total in sums.items()}


def _batch_loss(
    model: TrainableModule, x: torch.Tensor, y: torch.Tensor | None
) -> dict[str, torch.Tensor]:
    """``model.loss(x)``, or ``model.loss(x, y)`` for models trained with labels."""
    return model.loss(x) if y is None else model.loss(x, y)


def _rows(tensor: torch.Tensor | None, index: torch.Tensor | slice) -> torch.Tensor | None:
    """``tensor[index]`` with the index on the tensor's device; no targets stay None."""
    if tensor is None:
        return None
    if isinstance(index, torch.Tensor):
        index = index.to(tensor.device)
    return tensor[index]


def _check_targets(name: str, images: torch.Tensor, targets: torch.Tensor | None) -> None:
    if targets is not None and len(targets) != len(images):
        raise InputError(
            f"{name} has {len(targets)} entries, expected one per image ({len(images)})"
        )


def fit(
    model: TrainableModule,
    train_images: torch.Tensor,
    settings: FitSettings,
    *,
    generator: torch.Generator,
    weights: np.ndarray | None = None,
    val_images: torch.Tensor | None = None,
    description: str = "training",
    targets: torch.Tensor | None = None,
    val_targets: torch.Tensor | None = None,
    progress: Progress | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> pd.DataFrame:
    """Train ``model`` in place and return its loss log (one row per step or evaluation).

    ``train_images`` (and ``val_images``) may be float images anywhere or 8-bit images kept
    once on the host: each batch is copied to the model's device and converted there
    (:func:`lso.runtime.unit_batch`), with the values a whole-array conversion gives.

    A fresh optimiser is made on every call, as the original's per-retraining Lightning
    trainer did; validation runs after each full epoch and once at the end. With ``targets``
    (labels for the classifier and the joint VAE) each batch calls ``model.loss(x, y)``; the
    validation images then need their ``val_targets`` too. A model with a procedure of its
    own (a GAN's alternating steps, ``trains_itself``) runs that instead, on the same batches.
    ``progress(step, total)`` is called after every step (every generator step of a GAN).
    ``transform`` augments each training batch; validation sees the images as they are.
    """
    if model.trains_itself:
        return model.train_itself(
            train_images,
            settings,
            generator=generator,
            weights=weights,
            description=description,
            progress=progress,
        )
    _check_all_targets(train_images, targets, val_images, val_targets)
    optimiser = _make_optimiser(model, settings)
    plateau = model.plateau_scheduler(optimiser) if settings.use_plateau_scheduler else None
    batches = batch_indices(len(train_images), settings, weights, generator)
    per_epoch = batches_per_epoch(len(train_images), settings.batch_size)
    decay = lr_decay_scheduler(optimiser, settings.lr_decay, len(batches))
    rows: list[dict[str, float | int | str]] = []
    device = model_device(model)
    for step, index in enumerate(tqdm(batches, desc=description, leave=False, disable=None), 1):
        batch = _training_batch(train_images, index, device, transform)
        terms = _train_step(model, optimiser, decay, batch, _rows(targets, index))
        if progress is not None:
            progress(step, len(batches))
        rows.append(_log_row(step, step / per_epoch, "train", terms))
        end_of_epoch = step % per_epoch == 0 or step == len(batches)
        if end_of_epoch and val_images is not None and len(val_images) > 0:
            val_terms = evaluate_loss(model, val_images, targets=val_targets)
            rows.append(_log_row(step, step / per_epoch, "val", val_terms))
            if plateau is not None:
                plateau.step(val_terms["loss"])
            _log_epoch(description, step / per_epoch, terms, val_terms)
    model.eval()
    return pd.DataFrame(rows)


def _check_all_targets(
    train_images: torch.Tensor,
    targets: torch.Tensor | None,
    val_images: torch.Tensor | None,
    val_targets: torch.Tensor | None,
) -> None:
    _check_targets("targets", train_images, targets)
    if val_images is not None and (targets is None) != (val_targets is None):
        raise InputError("give both targets and val_targets, or neither, when validating")


def _training_batch(
    images: torch.Tensor,
    index: torch.Tensor,
    device: torch.device,
    transform: Callable[[torch.Tensor], torch.Tensor] | None,
) -> torch.Tensor:
    """The batch on the model's device in [0, 1], augmented by ``transform`` when given."""
    batch = unit_batch(images, index, device)
    return batch if transform is None else transform(batch)


def _train_step(
    model: TrainableModule,
    optimiser: torch.optim.Optimizer,
    decay: torch.optim.lr_scheduler.LRScheduler | None,
    batch: torch.Tensor,
    targets: torch.Tensor | None,
) -> dict[str, torch.Tensor]:
    """One optimiser step on one batch (and the schedules that advance with it)."""
    model.train()
    with mixed_precision():  # the forward pass and the loss; backward runs outside
        terms = _batch_loss(model, batch, targets)
    optimiser.zero_grad(set_to_none=True)
    terms["loss"].backward()
    optimiser.step()
    if decay is not None:
        decay.step()
    model.on_train_step()
    return terms


def _log_epoch(
    description: str, epoch: float, terms: dict[str, torch.Tensor], val_terms: dict[str, float]
) -> None:
    logger.info(
        "%s: epoch %.2f train loss %.3f val loss %.3f",
        description,
        epoch,
        terms["loss"].item(),
        val_terms["loss"],
    )


def fit_and_save(
    model: TrainableModule,
    train_images: torch.Tensor,
    settings: FitSettings,
    *,
    seed: int,
    checkpoint: PathLike,
    train_log: PathLike,
    val_images: torch.Tensor,
    targets: torch.Tensor | None = None,
    val_targets: torch.Tensor | None = None,
    description: str = "training",
    progress: Progress | None = None,
) -> None:
    """Train a freshly built model from scratch, then write its checkpoint and loss log.

    The one ending of every training rule (generative models, the classifier, the joint
    VAEs): the batch order comes from ``seed`` alone, so a rerun reproduces the checkpoint.
    """
    log = fit(
        model,
        train_images,
        settings,
        generator=torch.Generator().manual_seed(seed),
        val_images=val_images,
        targets=targets,
        val_targets=val_targets,
        description=description,
        progress=progress,
    )
    save_checkpoint(model, checkpoint)
    with atomic_path(train_log) as tmp:
        log.to_csv(tmp, index=False)


def _make_optimiser(model: TrainableModule, settings: FitSettings) -> torch.optim.Optimizer:
    """Adam, or RMSprop with Keras' defaults (rho 0.9, eps 1e-7) to match the blog's training."""
    if settings.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=settings.lr)
    if settings.optimizer == "rmsprop":
        return torch.optim.RMSprop(model.parameters(), lr=settings.lr, alpha=0.9, eps=1e-7)
    raise InputError(f"optimizer must be 'adam' or 'rmsprop', got {settings.optimizer!r}")


def _log_row(
    step: int, epoch: float, split: str, terms: dict[str, torch.Tensor] | dict[str, float]
) -> dict[str, float | int | str]:
    return {
        "step": step,
        "epoch": epoch,
        "split": split,
        **{k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in terms.items()},
    }
