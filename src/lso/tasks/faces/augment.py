"""Image degradations: random ones to train the smile predictors with, fixed ones to test them.

A generative model's decodes differ from the drawings the predictors learn from in ways a
network can over-read: they are blurred (a VAE's mean image), noisy or off-palette (a GAN),
and a little shifted or scaled. A predictor that only ever saw sharp, well-coloured faces
extrapolates on those, and a black box that scores blur or colour instead of the mouth is
what an optimiser then exploits (measured: the judge scored the best VAE queries 0.2 where
the black box said 2.5). Training with these degradations, at strengths that cover what the
generators produce, makes the score a function of the smile; the robustness table
(:func:`lso.tasks.faces.robustness.robustness_table`) measures how far it is one.

Every function works on a batch (n, 3, H, W) in [0, 1] on any device, draws its randomness
from a CPU ``torch.Generator`` (so a training run is reproducible from its seed whatever the
device), and returns images clamped to [0, 1].
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F


class Augmentation(NamedTuple):
    """Random degradations, each applied to an image with ``probability``, at a strength
    drawn uniformly up to its maximum (0 switches one off)."""

    probability: float
    blur_sigma: float  # Gaussian blur, standard deviation in pixels
    noise_std: float  # additive Gaussian noise
    gain: float  # per-channel colour gain within 1 ± gain (a palette shift)
    offset: float  # per-channel offset within ± offset (brightness and tint)
    contrast: float  # contrast towards the image mean within 1 ± contrast
    shift: float  # translation within ± shift pixels
    scale: float  # zoom within 1 ± scale


def gaussian_blur(images: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
    """Each image blurred by its own ``sigma`` (pixels; 0 leaves it unchanged).

    A separable Gaussian of radius ceil(3 σ_max), reflect-padded, as one grouped convolution
    per axis, so a batch costs two convolutions whatever its σs.
    """
    n, channels, _, _ = images.shape
    sigma = torch.as_tensor(sigma, dtype=images.dtype, device=images.device).expand(n)
    radius = math.ceil(3 * float(sigma.max()))
    if radius == 0:
        return images
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    safe = sigma.clamp_min(1e-6)[:, None]
    kernels = torch.exp(-0.5 * (offsets[None] / safe) ** 2)
    kernels = torch.where(sigma[:, None] > 0, kernels, (offsets[None] == 0).to(images.dtype))
    kernels = (kernels / kernels.sum(1, keepdim=True)).repeat_interleave(channels, 0)
    flat = images.reshape(1, n * channels, *images.shape[2:])
    padded = F.pad(flat, (0, 0, radius, radius), mode="reflect")
    flat = F.conv2d(padded, kernels[:, None, :, None], groups=n * channels)
    padded = F.pad(flat, (radius, radius, 0, 0), mode="reflect")
    flat = F.conv2d(padded, kernels[:, None, None, :], groups=n * channels)
    return flat.reshape(images.shape)


def add_noise(
    images: torch.Tensor, std: torch.Tensor | float, generator: torch.Generator
) -> torch.Tensor:
    """Additive Gaussian noise of standard deviation ``std`` (per image or one value)."""
    std = torch.as_tensor(std, dtype=images.dtype).expand(len(images)).to(images.device)
    noise = torch.randn(images.shape, generator=generator).to(images.device, images.dtype)
    return (images + std[:, None, None, None] * noise).clamp(0.0, 1.0)


def recolour(
    images: torch.Tensor,
    gains: torch.Tensor,
    offsets: torch.Tensor,
    contrast: torch.Tensor,
) -> torch.Tensor:
    """Per-image contrast about the image mean, then per-channel gains (n, 3) and offsets."""
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    contrasted = mean + contrast.to(images)[:, None, None, None] * (images - mean)
    recoloured = (
        contrasted * gains.to(images)[:, :, None, None] + offsets.to(images)[:, :, None, None]
    )
    return recoloured.clamp(0.0, 1.0)


def move(images: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Each image translated by ``shift`` (n, 2) pixels (x, y) and zoomed by ``scale`` (n,),
    bilinearly, the border pixels repeated."""
    n, _, height, width = images.shape
    theta = torch.zeros(n, 2, 3, dtype=images.dtype, device=images.device)
    inverse = 1.0 / scale.to(images)
    theta[:, 0, 0] = inverse
    theta[:, 1, 1] = inverse
    theta[:, 0, 2] = -2.0 * shift[:, 0].to(images) / width
    theta[:, 1, 2] = -2.0 * shift[:, 1].to(images) / height
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def augment(images: torch.Tensor, spec: Augmentation, generator: torch.Generator) -> torch.Tensor:
    """A random degradation of every image (see :class:`Augmentation`).

    Geometry first, then colour, then blur, then noise: the order in which a generator's
    output departs from a drawing (a misplaced face, drawn in the wrong palette, rendered
    soft, with pixel noise on top).
    """
    n = len(images)

    def strengths(maximum: float, shape: tuple[int, ...] = ()) -> torch.Tensor:
        """Uniform in [-maximum, maximum] where the degradation applies to the image, else 0."""
        applies = torch.rand(n, generator=generator) < spec.probability
        values = (2 * torch.rand((n, *shape), generator=generator) - 1) * maximum
        return values * applies.reshape(n, *([1] * len(shape)))

    shift, zoom = strengths(spec.shift, (2,)), 1.0 + strengths(spec.scale)
    gains, offsets = 1.0 + strengths(spec.gain, (3,)), strengths(spec.offset, (3,))
    contrast = 1.0 + strengths(spec.contrast)
    sigma, noise = strengths(spec.blur_sigma).abs(), strengths(spec.noise_std).abs()
    out = images
    if spec.shift > 0 or spec.scale > 0:
        out = move(out, shift, zoom)
    out = recolour(out, gains, offsets, contrast)
    if spec.blur_sigma > 0:
        out = gaussian_blur(out, sigma.to(out.device))
    if spec.noise_std > 0:
        out = add_noise(out, noise, generator)
    return out


def augmenter(spec: Augmentation | None, seed: int) -> Any:
    """A batch transform for the fit loop (None when there is nothing to do): its own
    generator, seeded apart from the batch order's, so augmenting does not change which
    faces are drawn."""
    if spec is None or spec.probability <= 0:
        return None
    generator = torch.Generator().manual_seed(seed)
    return lambda images: augment(images, spec, generator)
