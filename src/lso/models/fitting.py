"""What every training procedure shares: how long and how fast (``FitSettings``), how batches
are drawn (shuffled epochs, or weighted draws with replacement), and learning-rate decay.

The generic fit loop (:mod:`lso.core.training`) and a model's own procedure (the GAN's
alternating steps, :mod:`lso.models.sngan_training`) both draw their batches here, so a
fraction of an epoch means the same number of batches for every model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lso.utils import InputError

Progress = Callable[[int, int], None]  # (steps done, total steps), after every step


@dataclass(frozen=True)
class FitSettings:
    """How long and how fast to train: ``epochs`` may be fractional (0.1 = a tenth of one).

    ``optimizer`` is ``"adam"`` (the thesis) or ``"rmsprop"`` (the blog's Keras models).
    ``lr_decay`` anneals the learning rate to 0 over the steps of the call, along a half
    cosine (``"cosine"``) or a line (``"linear"``, Mimicry's GAN pretraining); ``"constant"``
    keeps it. A classifier trained at a constant rate ends wherever its last batches left it
    (the faces predictor's validation accuracy swung between 0.44 and 0.80 over its last two
    epochs). ``keep_optimizer_state`` is read by adversarial training only
    (:mod:`lso.adversarial`): the thesis's GAN retrainings reuse their Adam states.
    """

    epochs: float
    batch_size: int
    lr: float
    use_plateau_scheduler: bool = False
    optimizer: str = "adam"
    lr_decay: str = "constant"
    keep_optimizer_state: bool = False


def lr_decay_scheduler(
    optimiser: torch.optim.Optimizer, kind: str, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A scheduler that takes the learning rate to 0 over ``total_steps`` (None: constant)."""
    steps = max(total_steps, 1)
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
    if kind == "linear":
        return torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - step / steps)
    if kind == "constant":
        return None
    raise InputError(f"lr_decay must be 'constant', 'cosine' or 'linear', got {kind!r}")


def batches_per_epoch(n_items: int, batch_size: int) -> int:
    return max(1, n_items // batch_size)


def batch_indices(
    n_items: int,
    settings: FitSettings,
    weights: np.ndarray | None,
    generator: torch.Generator,
) -> list[torch.Tensor]:
    """Index batches for the whole fit, grouped into epochs by the caller.

    With ``weights`` each batch is an independent weighted draw with replacement; without,
    each epoch is a fresh permutation with the last partial batch dropped.
    """
    per_epoch = batches_per_epoch(n_items, settings.batch_size)
    total = max(1, round(settings.epochs * per_epoch))
    size = min(settings.batch_size, n_items)
    if weights is not None:
        probs = torch.as_tensor(weights, dtype=torch.float64)
        return [
            torch.multinomial(probs, size, replacement=True, generator=generator)
            for _ in range(total)
        ]
    batches: list[torch.Tensor] = []
    for _ in range(math.ceil(total / per_epoch)):
        order = torch.randperm(n_items, generator=generator)
        batches.extend(order[i * size : (i + 1) * size] for i in range(per_epoch))
    return batches[:total]
