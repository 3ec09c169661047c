"""Objectives of conditional generation: how far latent point t is from decoding to ``target``.

The blog minimises f(t) = -log p(y = target | t) - log N(t; 0, I). The prior term keeps the
search near the region the VAE was trained to decode well (its KL term pulls codes towards
N(0, I)); 1e-8 inside the log bounds the first term at about 18.4 where the classifier is
certain the digit is another one. p comes either from the joint model's own predictor or
from decoding t and asking the separate classifier; only the latter is a black box, which is
what Bayesian optimisation is for.

All functions take many latent points at once, (n, d), and return f as float64 (n,) on the
device of ``t``; the networks run on their own device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from lso.models.base import LatentModel
from lso.models.classifier import N_CLASSES, MnistClassifier
from lso.models.joint_vae import JointVAE
from lso.utils import InputError

LOG_EPS = 1e-8
ObjectiveFn = Callable[[torch.Tensor], torch.Tensor]


class Landscape(NamedTuple):
    """An objective on a square grid: ``values[i, j] = f(axis[i], axis[j])``."""

    axis: torch.Tensor
    values: torch.Tensor


def neg_log_prior(t: torch.Tensor) -> torch.Tensor:
    """-log N(t; 0, I) per row of ``t`` (n, d), in float64."""
    t = torch.as_tensor(t, dtype=torch.float64)
    return 0.5 * t.pow(2).sum(dim=-1) + 0.5 * t.shape[-1] * math.log(2.0 * math.pi)


@torch.no_grad()
def decoded_objective(
    t: torch.Tensor,
    target: int,
    decoder_model: LatentModel,
    classifier: MnistClassifier,
    *,
    binarise: bool,
    batch_size: int = 1024,
) -> torch.Tensor:
    """f(t) with p(target | t) from ``classifier`` applied to the image decoded from ``t``."""
    _check(t, target, decoder_model.latent_dim)
    probs = decoded_probabilities(
        t, decoder_model, classifier, binarise=binarise, batch_size=batch_size
    )
    return _objective(t, probs[:, target])


@torch.no_grad()
def decoded_images(t: torch.Tensor, decoder_model: LatentModel, *, binarise: bool) -> torch.Tensor:
    """The images the classifier judges: pixel means, or with ``binarise`` their rounding.

    A classifier must see images like the ones it was trained on. One trained on binarised
    digits gives a clearly drawn but grey, blurred mean image of a 3 p(3) ~ 1e-4 and the
    same image rounded to {0, 1} p(3) > 0.99, so with binarised training data the decoder's
    most likely binary image is judged (as the thickness experiments score it).
    """
    images = decoder_model.decode(t)
    return (images > 0.5).to(images.dtype) if binarise else images


@torch.no_grad()
def decoded_probabilities(
    t: torch.Tensor,
    decoder_model: LatentModel,
    classifier: MnistClassifier,
    *,
    binarise: bool,
    batch_size: int = 1024,
) -> torch.Tensor:
    """Classifier probabilities (n, 10) of the images decoded from ``t``, on the model device.

    Decoding goes in batches of ``batch_size`` so that a dense landscape grid fits in memory.
    """
    points = _on_model(t, decoder_model)
    return torch.cat(
        [
            classifier.predict_proba(decoded_images(chunk, decoder_model, binarise=binarise))
            for chunk in points.split(batch_size)
        ]
    )


@torch.no_grad()
def predictor_objective(t: torch.Tensor, target: int, joint_model: JointVAE) -> torch.Tensor:
    """f(t) with p(target | t) from the joint model's classifier head on the latent point."""
    _check(t, target, joint_model.latent_dim)
    return _objective(t, predicted_probabilities(t, joint_model)[:, target])


@torch.no_grad()
def predicted_probabilities(t: torch.Tensor, joint_model: JointVAE) -> torch.Tensor:
    """The joint model's class probabilities (n, 10) at ``t``, on the model's device."""
    if joint_model.hparams["predictor"] != "classifier":
        raise InputError(
            f"predictor objectives need a JointVAE with predictor 'classifier', got "
            f"{joint_model.hparams['predictor']!r}"
        )
    return joint_model.predict(_on_model(t, joint_model))


def landscape(
    objective_fn: ObjectiveFn,
    bounds: float = 4.0,
    grid_len: int = 81,
    device: torch.device | str = "cpu",
) -> Landscape:
    """Evaluate a 2-D ``objective_fn`` on a ``grid_len``² grid over [-bounds, bounds]².

    81 points give the blog's 0.1 spacing on [-4, 4] with both ends and the origin included.
    """
    axis, grid = _grid(bounds, grid_len, device)
    return Landscape(axis, torch.as_tensor(objective_fn(grid)).reshape(grid_len, grid_len))


def landscapes_by_target(
    probability_fn: Callable[[torch.Tensor], torch.Tensor],
    targets: Sequence[int],
    bounds: float = 4.0,
    grid_len: int = 81,
    device: torch.device | str = "cpu",
) -> dict[int, Landscape]:
    """Every target's objective from one pass of ``probability_fn`` (t -> (n, 10)) over the grid.

    Decoding and classifying the grid dominates the cost and does not depend on the target,
    so e.g. ``partial(decoded_probabilities, decoder_model=vae, classifier=clf)`` or
    ``partial(predicted_probabilities, joint_model=joint)`` runs once instead of per target.
    """
    axis, grid = _grid(bounds, grid_len, device)
    probs = probability_fn(grid)
    return {
        int(target): Landscape(axis, _objective(grid, probs[:, target]).reshape(grid_len, grid_len))
        for target in targets
    }


def _grid(
    bounds: float, grid_len: int, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Axis values and the grid points, first coordinate varying slowest."""
    if grid_len < 2 or bounds <= 0:
        raise InputError(f"landscape needs grid_len >= 2 and bounds > 0, got {grid_len}, {bounds}")
    axis = torch.linspace(-bounds, bounds, grid_len, dtype=torch.float64, device=device)
    return axis, torch.cartesian_prod(axis, axis)


def _objective(t: torch.Tensor, probability: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t)
    nll = -torch.log(probability.to(torch.float64) + LOG_EPS)
    return neg_log_prior(t) + nll.to(t.device)


def _on_model(t: torch.Tensor, model: torch.nn.Module) -> torch.Tensor:
    """``t`` as float32 on the device of ``model``'s weights."""
    return torch.as_tensor(t).to(device=next(model.parameters()).device, dtype=torch.float32)


def _check(t: torch.Tensor, target: int, latent_dim: int) -> None:
    shape = tuple(torch.as_tensor(t).shape)
    if len(shape) != 2 or shape[1] != latent_dim:
        raise InputError(f"latent points t must have shape (n, {latent_dim}), got {shape}")
    if not 0 <= int(target) < N_CLASSES:
        raise InputError(f"target must be a digit 0-9, got {target}")
