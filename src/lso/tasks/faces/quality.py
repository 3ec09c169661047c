"""Can a generative model draw the faces it is asked to improve? Distances on a readable scale.

A pretrained model's samples, and its reconstructions where it has an encoder, are compared
with held-out faces in the judge's features (the network no optimiser attacks), by the
Fréchet distance and the unbiased kernel distance (KID), beside references on the same scale:
the distance between the two halves of the held-out faces themselves (the floor at this
sample size) and of one half blurred by σ = 1 and 2 px to the other. Every distance compares
equally many images, so the numbers in one table can be read against each other. A
reconstruction must also keep the mouth: the judge's expected smile of the reconstructions is
compared with that of the faces they reconstruct.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lso.core.metrics import frechet_distance_between, kernel_inception_distance
from lso.models.base import LatentModel, decode_queries
from lso.tasks.faces.augment import gaussian_blur
from lso.tasks.faces.objective import SmileObjective
from lso.tasks.faces.robustness import agreement

BLUR_REFERENCES = (1.0, 2.0)


def distances(features: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """FD and KID (x1000, as usually reported) of a feature set to the reference set."""
    return {
        "fd": frechet_distance_between(features, reference),
        "kid_x1000": 1000 * kernel_inception_distance(features, reference),
    }


def held_out_halves(images: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random sets of at most ``n`` held-out faces each (equal sizes)."""
    order = np.random.default_rng(seed).permutation(len(images))
    size = min(n, len(images) // 2)
    return images[order[:size]], images[order[size : 2 * size]]


def model_quality(
    model: LatentModel,
    held_out: np.ndarray,
    judge: SmileObjective,
    black_box: SmileObjective,
    device: torch.device,
    n: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """Distances of the model's samples (and reconstructions) to held-out faces, with the
    references of the scale, the predictors' agreement on its samples, and how much smile
    its reconstructions keep."""
    first, second = held_out_halves(held_out, n, seed)
    reference = judge.features(second)
    result: dict[str, Any] = {
        "n": len(first),
        **_prefixed("halves", distances(judge.features(first), reference)),
    }
    for sigma in BLUR_REFERENCES:
        blurred = gaussian_blur(torch.as_tensor(first), sigma).numpy()
        result.update(_prefixed(f"blur{sigma:g}", distances(judge.features(blurred), reference)))
    generator = torch.Generator().manual_seed(seed)
    prior = model.prior_sample(len(first), generator).numpy().astype(np.float64)
    samples = decode_queries(model, prior, device)
    result.update(_prefixed("samples", distances(judge.features(samples), reference)))
    result.update(_prefixed("samples", agreement(black_box(samples), judge(samples))))
    if model.has_encoder:
        result.update(_reconstruction_quality(model, first, judge, reference, device))
    return result


def _reconstruction_quality(
    model: LatentModel,
    faces: np.ndarray,
    judge: SmileObjective,
    reference: np.ndarray,
    device: torch.device,
) -> dict[str, float]:
    with torch.no_grad():
        codes = torch.cat(
            [
                model.encode(torch.as_tensor(part, device=device))[0]
                for part in np.array_split(faces, max(1, len(faces) // 256))
            ]
        )
    reconstructions = decode_queries(model, codes.double().cpu().numpy(), device)
    smile = judge(faces)
    kept = judge(reconstructions)
    return {
        **_prefixed("reconstructions", distances(judge.features(reconstructions), reference)),
        "reconstructions_judge_abs_change": float(np.mean(np.abs(kept - smile))),
        "reconstructions_judge_change": float(np.mean(kept - smile)),
    }


def _prefixed(prefix: str, values: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{key}": value for key, value in values.items()}
