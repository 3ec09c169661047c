"""Time the parts of one Bayesian-optimisation iteration at thesis scale, cold vs warm-started.

Usage:  python benchmarks/bo_iteration.py [--case mnist16|faces64|both] [--repeats R]

Two cases, both single-threaded (torch and the BLAS under numpy/scikit-learn):

* ``mnist16``: the thesis's ``opt-mnist-local`` GP run (``vae16_gp`` in configs/thesis.yaml):
  a 16-D ``BinaryVAE`` trained for 2 epochs (untimed), n = 6,300 binarised
  digits (the 5,000 embedded ones plus 1,300 shifted copies) scored by thickness, a GP on
  all points, EI with the 90th-percentile incumbent, 100,000 uniform candidates in ±3, SLSQP
  (at most 1,000 iterations) from the best 10 under a 10-component ``gmm_fit`` constraint.
* ``faces64``: the thesis's CelebA run (``celeba_vae_k1e-3_r5``): a 64-D face VAE
  (``face_vae`` if the model registry has it, else a small stand-in conv VAE) trained for one
  epoch (untimed), n = 10,000
  synthetic 3x64x64 images (smooth random colour fields) scored by the mean red level of
  the lower half, DNGO on the 2,000 best + 8,000 random points, 100,000 N(0, I) candidates.

The iteration's state is realistic: a first round (untimed) proposes r = 5 points, which are
scored and appended, and leaves the warm state a loop carries over (GP hyperparameters and
inducing points or DNGO weights, GMM parameters). Then, as the loop does: retraining for
0.1 epoch on rank-weighted data (k = 1e-3), the constraint fit (cold, and warm from the
first round's GMM), and the optimiser call (surrogate fit, then acquisition: candidate
filtering, EI, SLSQP and decoding the chosen points), cold and warm-started. Each part is the
median of ``--repeats``. The GMM's mean log-likelihood of the codes is printed for both fits.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from lso.config.parse import optimizer_from
from lso.constraints.base import build_constraint, encode_dataset
from lso.core.training import fit
from lso.core.weighting import rank_weights
from lso.models.base import LatentModel
from lso.models.build import build_model
from lso.models.fitting import FitSettings
from lso.optimizers.base import SearchContext, build_optimizer
from lso.tasks.digits.mnist import load_mnist
from lso.tasks.digits.objective import thickness
from lso.utils import InputError

R = 5  # queries per round, as in both thesis runs


@dataclass
class Case:
    """One benchmark setting: a model, its data and scores, the optimiser and constraint."""

    name: str
    model: LatentModel
    images: torch.Tensor  # float32 in [0, 1]
    objective: Callable[[np.ndarray], np.ndarray]
    optimizer: dict[str, Any]
    threshold: float
    batch_size: int
    pretrain_epochs: float  # untimed, with the final KL weight, so that the codes mean something


def mnist16() -> Case:
    digits = load_mnist("embedded")[0]
    rng = np.random.default_rng(0)
    extra = digits[rng.choice(len(digits), 1_300, replace=False)]
    extra = np.roll(extra, rng.integers(-2, 3, size=2), axis=(1, 2))
    images = torch.as_tensor(np.concatenate([digits, extra]) > 127, dtype=torch.float32)
    torch.manual_seed(0)
    return Case(
        name="mnist16 (GP, n = 6,300, d = 16)",
        model=build_model("vae", {"latent_dim": 16}),
        images=images,
        objective=thickness,
        optimizer={
            "type": "local",
            "surrogate": {"type": "gp"},
            "incumbent": "percentile:90",
            "n_candidates": 100_000,
            "candidate_distribution": "uniform",
            "bounds": 3,
            "n_starts": 10,
            "maxiter": 1000,
        },
        threshold=-24.5,
        batch_size=32,
        pretrain_epochs=2,
    )


class StandInFaceVAE(LatentModel):
    """A small conv VAE on 3x64x64 images (64 → 4x4x128 → 64x64), used until ``face_vae`` exists."""

    kind = "stand_in_face_vae"
    image_shape = (3, 64, 64)

    def __init__(self, latent_dim: int = 64) -> None:
        super().__init__(latent_dim=latent_dim)
        widths = (3, 16, 32, 64, 128)
        down: list[nn.Module] = []
        up: list[nn.Module] = []
        for w_in, w_out in zip(widths, widths[1:], strict=False):
            down += [nn.Conv2d(w_in, w_out, 4, 2, 1), nn.ReLU()]
        for w_in, w_out in zip(widths[:0:-1], widths[-2::-1], strict=False):
            up += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1), nn.ReLU()]
        self.encoder = nn.Sequential(*down, nn.Flatten(), nn.Linear(128 * 16, 2 * latent_dim))
        self.project = nn.Linear(latent_dim, 128 * 16)
        self.decoder = nn.Sequential(*up[:-1], nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        return mean, log_var

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.project(z).reshape(-1, 128, 4, 4))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mean, log_var = self.encode(x)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        recon = (self.decode(z) - x).pow(2).flatten(1).sum(1).mean()
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum(1).mean()
        return {"loss": recon + kl, "recon": recon, "kl": kl}


def lower_half_redness(images: np.ndarray) -> np.ndarray:
    """A stand-in face score: mean red level of the lower half."""
    return np.asarray(images, dtype=np.float64)[:, 0, 32:].mean(axis=(1, 2))


def faces64() -> Case:
    generator = torch.Generator().manual_seed(0)
    coarse = torch.rand(10_000, 3, 6, 6, generator=generator)
    smooth = nn.functional.interpolate(coarse, size=64, mode="bilinear", align_corners=False)
    images = torch.round(smooth * 255) / 255
    torch.manual_seed(0)
    try:
        model: LatentModel = build_model("face_vae", {"latent_dim": 64})  # type: ignore[assignment]
    except (ModuleNotFoundError, InputError):
        model = StandInFaceVAE(64)
    return Case(
        name=f"faces64 (DNGO, n = 10,000, d = 64, {type(model).__name__})",
        model=model,
        images=images,
        objective=lower_half_redness,
        optimizer={
            "type": "local",
            "surrogate": {"type": "dngo"},
            "n_best": 2000,
            "n_random": 8000,
            "n_candidates": 100_000,
            "candidate_distribution": "normal",
            "n_starts": 10,
            "maxiter": 1000,
        },
        threshold=-94.0,
        batch_size=64,
        pretrain_epochs=1,
    )


def gmm_log_likelihood(constraint: Any, model: LatentModel, images: torch.Tensor) -> float:
    """Mean log density of the encoder means under a fitted constraint's mixture."""
    means, _ = encode_dataset(model, images)
    with torch.no_grad():
        return float(constraint.log_density(means.double()).mean())


def run_case(case: Case, repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}

    def clock(key: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = function(*args, **kwargs)
        times.setdefault(key, []).append(time.perf_counter() - start)
        return result

    images, model = case.images, case.model
    scores = case.objective(images.numpy())
    settings = optimizer_from(case.optimizer)
    warm = build_optimizer(settings)
    generator = torch.Generator().manual_seed(0)
    model.finish_schedules()
    pretrain = FitSettings(case.pretrain_epochs, case.batch_size, 1e-3)
    fit(model, images, pretrain, generator=generator)

    def constraint(seed: int, warm_start: dict[str, torch.Tensor] | None = None) -> Any:
        return build_constraint(
            "gmm_fit",
            model,
            images,
            threshold=case.threshold,
            n_components=10,
            seed=seed,
            warm_start=warm_start,
        )

    def context(fitted: Any, seed: int) -> SearchContext:
        return SearchContext(
            case.objective, fitted, set(), torch.device("cpu"), images, scores, seed
        )

    first = constraint(0)
    proposal = warm.propose(model, R, context(first, 0))
    images = torch.cat([images, torch.as_tensor(proposal.images)])
    scores = np.concatenate([scores, case.objective(proposal.images)])
    gmm_state = first.fit_state
    for repeat in range(repeats):
        weights = rank_weights(scores, 1e-3)
        train = FitSettings(0.1, case.batch_size, 1e-3)
        clock("retrain", fit, model, images, train, generator=generator, weights=weights)
        seed = repeat + 1
        cold_gmm = clock("gmm_cold", constraint, seed)
        warm_gmm = clock("gmm_warm", constraint, seed, gmm_state)
        times.setdefault("gmm_cold_loglik", []).append(gmm_log_likelihood(cold_gmm, model, images))
        times.setdefault("gmm_warm_loglik", []).append(gmm_log_likelihood(warm_gmm, model, images))
        state = warm.state_dict()
        for mode, optimizer in (("cold", build_optimizer(settings)), ("warm", warm)):
            result = optimizer.propose(model, R, context(warm_gmm, seed))
            diagnostics = result.diagnostics
            times.setdefault(f"surrogate_{mode}", []).append(diagnostics["surrogate_fit_seconds"])
            times.setdefault(f"acquisition_{mode}", []).append(
                diagnostics["acquisition_seconds"] + diagnostics["selection_seconds"]
            )
            times.setdefault(f"best_predicted_{mode}", []).append(
                float(np.max(result.predicted_mean))
            )
        times.setdefault("valid_candidate_fraction", []).append(
            diagnostics["n_candidates_valid"] / settings.n_candidates
        )
        warm.load_state_dict(state)  # every repeat starts from the first round's warm state
    return times


def report(case: Case, times: dict[str, list[float]]) -> None:
    median = {key: float(np.median(values)) for key, values in times.items()}
    print(f"\n{case.name}")
    print(f"{'part':<34}{'cold (s)':>10}{'warm (s)':>10}")
    rows = [
        ("surrogate fit", "surrogate_cold", "surrogate_warm"),
        ("GMM constraint fit", "gmm_cold", "gmm_warm"),
        ("acquisition (filter, EI, SLSQP, decode)", "acquisition_cold", "acquisition_warm"),
        ("retraining 0.1 epoch", "retrain", "retrain"),
    ]
    for label, cold, warm in rows:
        print(f"{label:<34}{median[cold]:>10.2f}{median[warm]:>10.2f}")
    total_cold = sum(median[cold] for _, cold, _ in rows)
    total_warm = sum(median[warm] for _, _, warm in rows)
    print(f"{'one iteration':<34}{total_cold:>10.2f}{total_warm:>10.2f}")
    print(
        f"GMM mean log-likelihood of the codes: cold {median['gmm_cold_loglik']:.3f}, "
        f"warm {median['gmm_warm_loglik']:.3f}; valid candidates "
        f"{median['valid_candidate_fraction']:.1%}"
    )
    print(
        f"machine-readable: case={case.name.split()[0]} cold={total_cold:.2f} warm={total_warm:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["mnist16", "faces64", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = {"mnist16": mnist16, "faces64": faces64}
    names = list(cases) if args.case == "both" else [args.case]
    with threadpool_limits(1):
        for name in names:
            case = cases[name]()
            report(case, run_case(case, args.repeats))


if __name__ == "__main__":
    main()
