"""Time the phases of one weighted-retraining iteration (2-D VAE, grid optimiser).

Usage:  python benchmarks/loop_iteration.py [--device cpu|cuda] [--threads N] [--repeats R]

It prepares the embedded digit-3 data, builds an (untrained) 2-D VAE (decoding cost does not
depend on training) and times, per iteration of the default config: retraining for 0.1 epoch
on rank-weighted data, fitting the gmm_full constraint, the grid optimiser's decode/score of
the 50x50 grid, and the 17x17 latent snapshot. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lso.constraints.base import build_constraint
from lso.core.training import fit
from lso.core.weighting import rank_weights
from lso.models.build import build_model
from lso.models.fitting import FitSettings
from lso.optimizers.base import SearchContext
from lso.optimizers.grid import GridOptimizer, latent_grid
from lso.runtime import resolve_device
from lso.tasks.digits.dataset import prepare_digit_dataset
from lso.tasks.digits.mnist import load_mnist
from lso.tasks.digits.objective import thickness


def timed(function, repeats: int, device: torch.device) -> float:
    """Median wall seconds of ``function`` over ``repeats`` calls (after one warm-up)."""
    function()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    images, labels = load_mnist("embedded")
    data = prepare_digit_dataset(
        images,
        labels,
        digit=3,
        binarize_threshold=0,
        val_fraction=0.05,
        holdout_top_fraction=0.0,
        seed=0,
    )
    train = torch.as_tensor(data["train_images"], device=device)
    torch.manual_seed(0)
    model = build_model("vae", {"latent_dim": 2}).to(device)
    weights = rank_weights(data["train_scores"], 1e-3)
    generator = torch.Generator().manual_seed(0)
    grid = GridOptimizer(bounds=3.0, grid_len=50)
    snapshot = torch.as_tensor(latent_grid(4.0, 17), dtype=torch.float32, device=device)

    def retrain():
        fit(model, train, FitSettings(0.1, 32, 1e-3), generator=generator, weights=weights)

    def constraint():
        return build_constraint("gmm_full", model, train, threshold=-10.0)

    fitted = constraint()

    def propose():
        context = SearchContext(thickness, fitted, set(), device, train, data["train_scores"], 0)
        grid.propose(model, 5, context)

    def snap():
        with torch.no_grad():
            model.decode(snapshot).cpu()

    phases = {
        "retrain_0.1_epoch": timed(retrain, args.repeats, device),
        "gmm_full_constraint": timed(constraint, args.repeats, device),
        "grid_propose_2500": timed(propose, args.repeats, device),
        "snapshot_289": timed(snap, args.repeats, device),
    }
    total = sum(phases.values())
    for name, seconds in phases.items():
        print(f"{name:>22}: {seconds * 1000:8.1f} ms  ({seconds / total:5.1%})")
    print(f"device={device} threads={args.threads} iteration_seconds={total:.3f}")


if __name__ == "__main__":
    main()
