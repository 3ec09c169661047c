"""BoTorch's categorical kernel vs `lso.surrogates.categorical_gp.HammingKernel` (same values).

Usage:  python benchmarks/hamming_kernel.py [--threads 1] [--repeats 5]

The categorical GP of the VQ-VAE runs fits 400 code grids of 64 positions (codebook 256)
by L-BFGS on the exact marginal likelihood (about 20 evaluations on a real training set,
about 1,800 on these synthetic grids), then scores ~16,000 neighbours per local-search move
with log EI. On synthetic grids of that shape (five prototypes, 30 % of positions
resampled; the score is the share of a prototype's first 8 codes kept, plus noise), this
times, interleaved and median of `repeats`: one marginal-likelihood evaluation (forward +
backward) and log EI on 2,048 grids, with each kernel in the same model
(:func:`lso.surrogates.categorical_gp.categorical_gp`), and checks that both give the same
numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement
from botorch.models import SingleTaskGP
from botorch.models.kernels.categorical import CategoricalKernel
from gpytorch.mlls import ExactMarginalLogLikelihood

from lso.surrogates.categorical_gp import HammingKernel, categorical_gp

N_TRAIN, N_POSITIONS, CODEBOOK, N_CANDIDATES = 400, 64, 256, 2048


def grids(rng: np.random.Generator, n: int, prototypes: np.ndarray) -> np.ndarray:
    x = prototypes[rng.integers(len(prototypes), size=n)].copy()
    resampled = rng.random(x.shape) < 0.3
    x[resampled] = rng.integers(CODEBOOK, size=resampled.sum())
    return x


def model_with(kernel_class: type, x: torch.Tensor, y: torch.Tensor) -> SingleTaskGP:
    torch.manual_seed(0)
    model = categorical_gp(x, y, kernel_class)
    lengthscales = torch.linspace(0.5, 5.0, N_POSITIONS, dtype=torch.float64)[None]
    model.covar_module.base_kernel.lengthscale = lengthscales
    return model


def time_one_evaluation(model: SingleTaskGP) -> tuple[float, float]:
    model.train()
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    start = time.perf_counter()
    loss = -mll(model(*model.train_inputs), model.train_targets)
    loss.backward()
    model.zero_grad()
    return time.perf_counter() - start, loss.item()


def time_acquisition(model: SingleTaskGP, candidates: torch.Tensor) -> tuple[float, np.ndarray]:
    model.eval()
    acquisition = LogExpectedImprovement(model, best_f=model.train_targets.max())
    start = time.perf_counter()
    with torch.no_grad():
        values = acquisition(candidates[:, None, :])
    return time.perf_counter() - start, values.numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    prototypes = rng.integers(CODEBOOK, size=(5, N_POSITIONS))
    x_np = grids(rng, N_TRAIN, prototypes)
    y_np = (x_np[:, :8] == prototypes[0, :8]).mean(1) + 0.1 * rng.standard_normal(N_TRAIN)
    x = torch.as_tensor(x_np, dtype=torch.float64)
    y = torch.as_tensor(y_np, dtype=torch.float64)[:, None]
    candidates = torch.as_tensor(grids(rng, N_CANDIDATES, prototypes), dtype=torch.float64)
    kernels = {"botorch": CategoricalKernel, "hamming": HammingKernel}
    models = {name: model_with(kernel, x, y) for name, kernel in kernels.items()}
    times = {(name, part): [] for name in kernels for part in ("mll", "acquisition")}
    losses, acquisitions = {}, {}
    for _ in range(args.repeats):
        for name, model in models.items():
            seconds, losses[name] = time_one_evaluation(model)
            times[name, "mll"].append(seconds)
            seconds, acquisitions[name] = time_acquisition(model, candidates)
            times[name, "acquisition"].append(seconds)
    for part in ("mll", "acquisition"):
        slow, fast = (statistics.median(times[name, part]) for name in kernels)
        print(
            f"{part}: botorch {slow * 1e3:.0f} ms, hamming {fast * 1e3:.0f} ms, {slow / fast:.1f}x"
        )
    loss_gap = abs(losses["botorch"] - losses["hamming"])
    acquisition_gap = np.abs(acquisitions["botorch"] - acquisitions["hamming"]).max()
    print(f"same numbers: loss gap {loss_gap:.1e}, largest log-EI gap {acquisition_gap:.1e}")


if __name__ == "__main__":
    main()
