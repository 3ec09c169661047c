"""Time one surrogate step of latent-space BO: our warm-startable SGPR vs BoTorch's exact GP.

Usage:  python benchmarks/surrogate_step.py [--threads N] [--botorch-timeout S] [--repeats R]

Data (synthetic, so that the benchmark needs no trained VAE): n = 7,000 training and 1,000
held-out points in d = 16, inputs ~ N(0, I) like a VAE's encoder means, scores = a smooth
nonlinear function (a sum of random sinusoidal ridges and a quadratic ridge, unit variance)
plus Gaussian noise of standard deviation 0.5. One *step* is what the "local" optimiser
does per call, without decoding: fit the surrogate, evaluate EI (incumbent: 90th percentile
of the scores) on 10,000 uniform candidates in [-3, 3]^16, and run SLSQP with autograd
gradients from the best 10 to obtain r = 5 points. It is timed (median of ``--repeats``
runs for ours, one run for BoTorch) for

* ours: ``GPSurrogate`` with its defaults (SGPR, 500 k-means inducing points), cold; then
  warm-started on the next iteration's data (5 more points) from the cold fit's state, and
  from a converged fit's state (the steady state of a long run; the converging is untimed);
* BoTorch: ``SingleTaskGP`` with its defaults, fitted by ``fit_gpytorch_mll``, same process
  and thread count. Its L-BFGS-B fit at n = 7,000 takes hours on a CPU, so it is stopped by
  BoTorch's own ``timeout_sec`` (reported, with the iterations it completed): its NLL is
  that of a partly fitted (possibly unfitted) model and its step time is a lower bound.

The held-out negative log likelihood (NLL) is the mean over points of
-log N(y | mean, latent variance + noise variance). ``nll_ratio`` = our cold NLL / BoTorch's
NLL: with both NLLs positive (as here), a ratio <= 1.05 means ours is at most 5 % worse.
Because BoTorch's fit is capped, a further row gives the exact GP posterior on all 7,000
points with our fitted hyperparameters: the quality an exact GP would add. The last line is
machine-readable; ``step_seconds`` is our cold step.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.model import Model
from gpytorch.mlls import ExactMarginalLogLikelihood
from scipy.optimize import minimize

from lso.optimizers.acquisition import make_acquisition
from lso.optimizers.bayesopt import evaluate_acquisition
from lso.optimizers.local import negated_acquisition
from lso.surrogates.gp import GPSurrogate

D, N_TRAIN, N_TEST, NOISE_STD = 16, 7_000, 1_000, 0.5
N_CANDIDATES, N_STARTS, R = 10_000, 10, 5


def synthetic_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, Callable]:
    """Inputs (n, 16) ~ N(0, I) and a smooth unit-variance objective of them."""
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((6, D)) / math.sqrt(D)
    phases = rng.uniform(0, 2 * math.pi, 5)

    def objective(x: np.ndarray) -> np.ndarray:
        projections = x @ directions.T
        ridges = np.sin(1.5 * projections[:, :5] + phases).sum(1) / math.sqrt(2.5)
        return (ridges - 0.5 * projections[:, 5] ** 2) / 1.1

    x = rng.standard_normal((N_TRAIN + N_TEST, D))
    y = objective(x) + NOISE_STD * rng.standard_normal(len(x))
    return x, y, objective


def propose_points(model: Model, y_train: np.ndarray, seed: int) -> np.ndarray:
    """The optimiser's acquisition step: EI on uniform candidates, SLSQP from the best."""
    acquisition = make_acquisition("ei", model, y_train, "percentile:90")
    rng = np.random.default_rng(seed)
    candidates = rng.uniform(-3, 3, (N_CANDIDATES, D))
    values = evaluate_acquisition(acquisition, candidates, torch.device("cpu"))
    objective = negated_acquisition(acquisition, torch.device("cpu"))
    results = []
    for start in candidates[np.argsort(-values)[:N_STARTS]]:
        box = [(-3.0, 3.0)] * D
        result = minimize(
            objective, start, jac=True, method="SLSQP", bounds=box, options={"maxiter": 100}
        )
        results.append((result.fun, result.x))
    return np.stack([x for _, x in sorted(results, key=lambda r: r[0])[:R]])


def held_out_nll(mean: np.ndarray, variance: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(0.5 * np.log(2 * math.pi * variance) + 0.5 * (y - mean) ** 2 / variance))


def timed(function: Callable, repeats: int = 1) -> tuple[float, object]:
    """Median wall seconds of ``repeats`` calls, and the last call's result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def ours(
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    objective: Callable,
    repeats: int,
) -> dict:
    """Cold step, warm step from the cold fit, and a warm step from a converged fit.

    Each warm step fits the next iteration's data (five more scored points). The converged
    fit (not timed) stands for the state a long run settles into: after a few iterations
    the warm-started L-BFGS has converged and stops within one or two iterations.
    """
    rng = np.random.default_rng(2)
    extra = rng.standard_normal((R, D))
    x_next = np.concatenate([x, extra])
    y_next = np.concatenate([y, objective(extra) + NOISE_STD * rng.standard_normal(R)])

    def step(warm: dict | None) -> GPSurrogate:
        xs, ys = (x, y) if warm is None else (x_next, y_next)
        surrogate = GPSurrogate(seed=0).fit(xs, ys, warm_start=warm)
        propose_points(surrogate, ys, seed=1)
        return surrogate

    rows = {}
    seconds, cold = timed(lambda: step(None), repeats)
    rows["cold"] = (seconds, cold)
    rows["warm"] = timed(lambda: step(cold.get_warm_state()), repeats)
    converged = GPSurrogate(sparse_max_iter=200, seed=0).fit(x, y)
    rows["steady"] = timed(lambda: step(converged.get_warm_state()), repeats)
    return {
        name: {
            "seconds": seconds,
            "nll": surrogate_nll(model, x_test, y_test),
            "iterations": model.fit_info["iterations"],
            "model": model,
        }
        for name, (seconds, model) in rows.items()
    }


def surrogate_nll(surrogate: GPSurrogate, x_test: np.ndarray, y_test: np.ndarray) -> float:
    mean, var = surrogate.predict(x_test)
    return held_out_nll(mean.numpy(), var.numpy() + surrogate.noise_variance, y_test)


def exact_with_our_hyperparameters(
    surrogate: GPSurrogate, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> float:
    """Held-out NLL of the exact GP posterior with the sparse fit's hyperparameters."""
    state = surrogate.get_warm_state()
    exact = GPSurrogate(exact_max=len(x), max_iter=0, seed=0).fit(x, y, warm_start=state)
    return surrogate_nll(exact, x_test, y_test)


def botorch_default(
    x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, timeout: float
) -> dict:
    iterations = []

    def step() -> SingleTaskGP:
        model = SingleTaskGP(torch.as_tensor(x), torch.as_tensor(y)[:, None])
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        fit_gpytorch_mll(
            mll,
            optimizer_kwargs={"timeout_sec": timeout, "callback": lambda *_: iterations.append(1)},
        )
        propose_points(model, y, seed=1)
        return model

    seconds, model = timed(step)
    with torch.no_grad():
        posterior = model.posterior(torch.as_tensor(x_test), observation_noise=True)
        mean, var = posterior.mean.squeeze(-1).numpy(), posterior.variance.squeeze(-1).numpy()
    return {
        "seconds": seconds,
        "nll": held_out_nll(mean, var, y_test),
        "iterations": len(iterations),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # One thread by default: on a 2-core machine that runs anything else, two OpenMP threads
    # make small-matrix work several times slower (20 s instead of 5 s for our step).
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--botorch-timeout", type=float, default=240.0)
    parser.add_argument("--repeats", type=int, default=3, help="median of this many (ours)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")  # BoTorch's input-scaling and legacy-EI advice
    data, scores, objective = synthetic_data()
    x, y = data[:N_TRAIN], scores[:N_TRAIN]
    x_test, y_test = data[N_TRAIN:], scores[N_TRAIN:]
    GPSurrogate(seed=0).fit(x[:50], y[:50])  # first-call overheads (lazy imports) off the clock
    mine = ours(x, y, x_test, y_test, objective, args.repeats)
    exact_nll = exact_with_our_hyperparameters(mine["cold"]["model"], x, y, x_test, y_test)
    reference = botorch_default(x, y, x_test, y_test, args.botorch_timeout)
    print(f"threads={args.threads} n={N_TRAIN} d={D} candidates={N_CANDIDATES} starts={N_STARTS}")
    print(f"{'model':<52} {'step s':>7} {'L-BFGS its':>10} {'held-out NLL':>13}")
    labels = {
        "cold": "ours: SGPR m=500, cold",
        "warm": "ours: warm-started from the cold fit",
        "steady": "ours: warm-started from a converged fit",
    }
    for name, label in labels.items():
        row = mine[name]
        print(f"{label:<52} {row['seconds']:7.2f} {row['iterations']:10d} {row['nll']:13.4f}")
    print(
        f"{'exact GP posterior, our cold hyperparameters':<52} {'-':>7} {'-':>10} {exact_nll:13.4f}"
    )
    label = f"BoTorch SingleTaskGP, fit capped at {args.botorch_timeout:.0f} s"
    print(
        f"{label:<52} {reference['seconds']:7.1f} {reference['iterations']:10d} "
        f"{reference['nll']:13.4f}"
    )
    cold = mine["cold"]
    speedup = reference["seconds"] / cold["seconds"]
    ratio = cold["nll"] / reference["nll"]
    print(f"speedup={speedup:.1f} nll_ratio={ratio:.3f} step_seconds={cold['seconds']:.2f}")


if __name__ == "__main__":
    main()
