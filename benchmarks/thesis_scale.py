"""Thesis-scale cost: pretraining per epoch and BO per iteration of every configs/thesis.yaml run.

Usage:  nice python benchmarks/thesis_scale.py [--device cpu|cuda] [--threads 1 2]
                                                [--precision fp32|bf16] [--json out.json]

Every network is built at the size configs/thesis.yaml gives it (CelebA VAE widths 32-512,
VQ-VAE 64-256 with D = 64 and K = 256, SN-GAN widths 1024 with n_dis 5, the ResNet-18-shaped
smile predictor at input 128, the MNIST VAEs/RAE) and timed on synthetic inputs of the right
shape (cost does not depend on what the weights learned): a few training steps at the
thesis's batch size, and decoding, encoding, scoring and discriminating per image. The
surrogates are fitted at the thesis's training-set sizes (DNGO on 10,000 and on 100,000
points for fewer epochs, scaled to 100; the GP on 6,500 16-D points; stronger-NAS's sparse
GP on 1,100 128-D points; LightGBM on 10,000 code grids; the trust-region optimiser's
approximate GP, below), the GMM on 20,000 codes (scaled to the data). The projections
multiply these by the counts of configs/thesis.yaml and by the data sizes below, which are
estimates (the thesis's own files are not public):

* N_FACES = 144,000 CelebA-Dialog training faces at Smiling <= 2 (about 160,000 such faces
  of the 202,578 labelled ones, 10 % held out); the predictors train on half of all labelled
  faces each (91,000) for 10 epochs;
* N_THREES = 6,450 MNIST threes (7,141 in full MNIST, 5 % thickest dropped, 5 % held out).

Training steps are timed at a batch of 8 (64 on a GPU) and, for the networks whose step
takes over a second there (the SN-GAN, the predictor, the VQ-VAE on a CPU), scaled linearly
to the thesis's batch of 64 or 128 (their cost is compute, linear in the batch on a CPU; on a
GPU a small batch underuses it, so those GPU numbers are upper bounds); cheaper networks are
timed at their full batch. The two SN-GANs (z = 64 and 128) are timed once.

SLSQP (the ``local`` optimiser) is projected at its iteration cap (n_starts x maxiter
evaluations of the acquisition and constraint gradients): an upper bound, as searches usually
stop earlier. The constraint is counted once per round, not once per iteration, because the
loop refits it every round (its data grow by each round's queries): the runs with several
rounds per retraining (q < r: standard LSO, the trust-region runs but one, stronger-NAS) pay
it every round. The GMM's fit is timed cold although the loop warm-starts EM, because at
16-D EM converges in as many iterations from last round's mixture as from k-means
(``bo_iteration.py`` in benchmarks/README.md).

The trust-region runs (``turbo``: TuRBO-L, LOL-BO, weighted retraining with TuRBO's
proposals) are projected with the approximate GP only: 6,450 digits and 144,000 faces exceed
``exact_max``, so the exact GP never runs at thesis size and is not timed. A training step
of the approximate GP costs the same whatever its training set (the 1,024 inducing points
rule it), so one epoch is timed on 10,000 points and scaled linearly, as is placing the
inducing points (greedy variance reduction, linear in the points; once per run, as the GP
persists). Its training set is taken as the n data, as for retraining: the queries add at
most 500 points (8 % of the digits, 0.3 % of the faces). Every model version costs one
training over all points for ``initial_epochs``, because the data are then re-encoded and
the GP's set rebuilt, and every later round one update on its q points; so weighted
retraining with TuRBO (q = r) pays the full training every round. Each round's candidates
are the tutorial's number, all taken as valid, drawn once and Thompson-sampled once:
sampling costs the cube of the valid candidates, so counting them all is an upper bound,
while a region halved for want of valid candidates, or picks re-drawn because they decode to
known images, would add draws that are not counted.

LOL-BO is projected as if no round found a new best, the pace at which its joint updates
come fastest: one after every ``e2e_freq`` rounds, its recentering scoring the newest batch
and the top k (taken as disjoint, every decode a new image) out of the budget, so 500 calls
buy 50 rounds, 5 joint updates and 250 recentred points. Each joint update starts a model
version whose GP trains over all points again, which dominates the run at thesis size; a run
whose rounds do improve has fewer joint updates and more rounds, TuRBO-L's row being the
limit. A fine-tuning step is counted as the model's training step per image, plus its
encoder's forward and backward (three encodes per image) and one minibatch step of the GP
per batch; the recentred points are encoded once more before they are decoded and scored.

A run's time is its iterations (the first with the initial retraining and, for the
trust-region runs, the GP's construction) for one seed; pretraining is counted once per
model, in its own table. On a GPU pass ``--device cuda`` (skipped with a message when there
is none). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from botorch.generation import MaxPosteriorSampling
from gpytorch.settings import max_cholesky_size
from loop_iteration import timed  # benchmarks/: median seconds after a warm-up call
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from lso.config.parse import apply_defaults, surrogate_from, surrogate_settings
from lso.config.schema import load_schema, validated
from lso.constraints.base import encode_dataset
from lso.core.training import fit
from lso.models.base import decode_queries
from lso.models.build import build_model
from lso.models.fitting import FitSettings
from lso.optimizers.trust_region import box, box_candidates, to_unit
from lso.runtime import inference_batch_size, precision_policy, resolve_device
from lso.surrogates.build import build_surrogate
from lso.surrogates.turbo_gp import ApproximateGP, KernelBounds, lengthscales
from lso.tasks.faces.objective import SmileObjective

REPO = Path(__file__).resolve().parents[1]
N_FACES = 144_000
N_PREDICTOR = 91_000
PREDICTOR_ROLES = ("black_box", "judge")
N_THREES = 6_450
FACE_SHAPE = (3, 64, 64)
PER_IMAGE = 32  # images timed per decode/encode/score measurement (x8 on a GPU)
TIMED_BATCH = 8  # training steps are timed at this batch (x8 on a GPU) and scaled linearly
TURBO_POINTS = 10_000  # the approximate GP's epoch is timed on this many points, scaled linearly
CHEAP_STEP = 1.0  # seconds: a step cheaper than this at TIMED_BATCH is timed at full batch


def thesis_spec() -> dict[str, Any]:
    """configs/thesis.yaml with every default filled (its data paths are not needed)."""
    raw = yaml.safe_load((REPO / "configs" / "thesis.yaml").read_text())
    apply_defaults(raw)
    return validated(raw, load_schema())


def images_for(kind: str, n: int) -> torch.Tensor:
    """Synthetic training images: 8-bit faces, or binary digits (float)."""
    rng = np.random.default_rng(0)
    if kind in ("vae", "rae"):
        return torch.as_tensor((rng.random((n, 28, 28)) < 0.2).astype(np.float32))
    return torch.as_tensor(rng.integers(0, 256, (n, *FACE_SHAPE), dtype=np.uint8))


def model_costs(spec: dict[str, Any], device: torch.device) -> dict[str, float]:
    """Seconds of one training step at the model's batch size, and per image of decoding,
    encoding (models with an encoder) and discriminating (GANs)."""
    torch.manual_seed(0)
    model = build_model(spec["type"], {"latent_dim": spec["latent_dim"], **spec["hparams"]})
    model.to(device)
    batch = spec["batch_size"]
    small = min(batch, inference_batch_size(device, TIMED_BATCH))
    data = images_for(spec["type"], small)
    n_dis = spec["hparams"].get("n_dis", 1)  # a GAN's generator step: n_dis critic batches
    steps = 1
    settings = FitSettings(epochs=steps * n_dis, batch_size=small, lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    step = timed(lambda: fit(model, data, settings, generator=generator), 1, device) / steps
    if step < CHEAP_STEP and small < batch:  # small networks: their fixed costs matter
        data = images_for(spec["type"], batch)
        settings = FitSettings(epochs=steps * n_dis, batch_size=batch, lr=1e-4)
        step = timed(lambda: fit(model, data, settings, generator=generator), 1, device) / steps
    costs = {"step": step * batch / len(data)}  # scaled to the thesis's batch
    count = inference_batch_size(device, PER_IMAGE)
    latents = model.prior_sample(count, generator).double().numpy()
    costs["decode"] = timed(lambda: decode_queries(model, latents, device), 1, device) / count
    if model.has_encoder:
        many = images_for(spec["type"], count)
        costs["encode"] = timed(lambda: encode_dataset(model, many), 1, device) / count
    if hasattr(model, "discriminate"):
        z = torch.as_tensor(latents[:count], dtype=torch.float32, device=device)

        def judge() -> None:
            with torch.no_grad():
                model.discriminate(model.decode(z))

        costs["discriminate"] = timed(judge, 1, device) / count
    return costs


def predictor_costs(spec: dict[str, Any], device: torch.device) -> dict[str, float]:
    """One thesis-size smile predictor (the black box or the judge, as configured): one
    training step, and scoring per image."""
    hparams = {"n_classes": 6, "widths": spec["widths"], "input_size": spec["input_size"]}
    if "blocks" in spec:
        hparams["blocks"] = spec["blocks"]
    model = build_model(spec["architecture"], hparams).to(device)
    small = min(spec["batch_size"], inference_batch_size(device, TIMED_BATCH))
    data = images_for("face", small)
    labels = torch.zeros(small, dtype=torch.int64)
    settings = FitSettings(epochs=1, batch_size=small, lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    step = timed(lambda: fit(model, data, settings, generator=generator, targets=labels), 1, device)
    step *= spec["batch_size"] / small
    objective = SmileObjective(model, inference_batch_size(device, 256))
    count = inference_batch_size(device, PER_IMAGE)
    faces = images_for("face", count).numpy().astype(np.float32) / 255.0
    return {"step": step, "score": timed(lambda: objective(faces), 1, device) / count}


def surrogate_costs(device: torch.device) -> dict[str, float]:
    """Fits at the thesis's training-set sizes, prediction per candidate, gradient calls."""
    rng = np.random.default_rng(0)

    def data(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.standard_normal((n, d))
        return x, np.sin(x[:, :3]).sum(1) + 0.1 * rng.standard_normal(n)

    costs = {}
    epochs = 5  # DNGO is timed for 5 epochs and scaled to its 100 (its BLR fit is small)
    for name, n, d in (("dngo_10k_64d", 10_000, 64), ("dngo_100k_128d", 100_000, 128)):
        x, y = data(n, d)
        surrogate = build_surrogate(
            surrogate_from({"type": "dngo", "epochs": epochs}), device=device
        )
        costs[name] = timed(lambda x=x, y=y, s=surrogate: s.fit(x, y), 1, device) * 100 / epochs
        costs[f"{name}_predict"] = _per_row(lambda q, s=surrogate: s.predict(q), d, device)
    for name, n, d, options in (
        ("gp_6450_16d", N_THREES, 16, {"type": "gp"}),
        ("sgp_1100_128d", 1_100, 128, {"type": "gp", "exact_max": 1, "n_inducing": 500}),
    ):
        x, y = data(n, d)
        surrogate = build_surrogate(surrogate_from(options), device=device)
        costs[name] = timed(lambda x=x, y=y, s=surrogate: s.fit(x, y), 1, device)
        costs[f"{name}_predict"] = _per_row(lambda q, s=surrogate: s.predict(q), d, device)
    costs.update(_tree_costs(rng))
    for d in (2, 16, 64):  # the latent sizes with a gmm_fit constraint
        codes = rng.standard_normal((20_000, d))
        gmm = GaussianMixture(10, covariance_type="full", max_iter=2000, tol=1e-3, random_state=0)
        costs[f"gmm_fit_{d}d"] = timed(lambda c=codes, g=gmm: g.fit(c), 1, device) / len(codes)
        costs[f"gmm_density_{d}d"] = timed(
            lambda c=codes, g=gmm: g.score_samples(c), 1, device
        ) / len(codes)
    return costs


def turbo_costs(spec: dict[str, Any], device: torch.device) -> dict[str, float]:
    """The trust-region optimiser's approximate GP (``lso.surrogates.turbo_gp``) at the
    settings of the config's turbo runs, per latent size (16 and 64)."""
    settings = {}
    for experiment in spec["experiments"].values():
        if experiment["optimizer"]["type"] == "turbo":
            d = spec["models"][experiment["model"]]["latent_dim"]
            settings.setdefault(d, experiment["optimizer"])
    costs = {}
    for d, turbo in sorted(settings.items()):
        costs.update(_turbo_costs_at(d, turbo, device))
    return costs


def _turbo_costs_at(d: int, turbo: dict[str, Any], device: torch.device) -> dict[str, float]:
    """Building the GP (inducing points placed among 10,000 points; per point), one training
    epoch over those points (per point, and per minibatch step), an update (``update_epochs``
    over one round's q new points) and one round's Thompson sampling over the default number
    of Sobol candidates, drawn and sampled as :class:`lso.optimizers.turbo.TurboOptimizer`
    does."""
    rng = np.random.default_rng(d)
    bounds = KernelBounds(
        turbo["lengthscale_min"], turbo["lengthscale_max"], turbo["noise_min"], turbo["noise_max"]
    )
    q = turbo["batch_size"] or 5

    def points(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = to_unit(torch.as_tensor(rng.standard_normal((n, d))), 3.0)
        return x.to(device), torch.sin(6 * x[:, :3]).sum(1).to(device)

    x, y = points(TURBO_POINTS)
    ApproximateGP(x[:64], turbo["n_inducing"], bounds)  # imports and first calls
    start = _synchronised(device)
    gp = ApproximateGP(x, turbo["n_inducing"], bounds)
    costs = {f"turbo_build_{d}d": (_synchronised(device) - start) / TURBO_POINTS}
    generator = torch.Generator().manual_seed(0)

    def train(x: torch.Tensor, y: torch.Tensor, epochs: int) -> None:
        gp.train(
            x,
            y,
            epochs=epochs,
            batch_size=turbo["update_batch_size"],
            lr=turbo["update_lr"],
            max_grad_norm=turbo["max_grad_norm"],
            generator=generator,
        )

    train(x[:256], y[:256], 1)  # warm-up: the first steps of a new model
    start = _synchronised(device)
    train(x, y, 1)
    epoch = _synchronised(device) - start
    costs[f"turbo_epoch_{d}d"] = epoch / TURBO_POINTS
    costs[f"turbo_step_{d}d"] = epoch / math.ceil(TURBO_POINTS / turbo["update_batch_size"])
    new_x, new_y = points(q)
    costs[f"turbo_update_{d}d"] = timed(
        lambda: train(new_x, new_y, turbo["update_epochs"]), 1, device
    )
    count = turbo["n_candidates"] or min(5000, max(2000, 200 * d))
    center = x[0].cpu()
    lower, upper = box(center, lengthscales(gp.model).cpu(), turbo["length_init"])
    sampler = MaxPosteriorSampling(gp.model, replacement=False)

    def thompson() -> None:
        candidates = box_candidates(center, lower, upper, count, turbo["perturbation_dims"], 0)
        with torch.no_grad(), max_cholesky_size(float("inf")):
            sampler(candidates.to(device), num_samples=q)

    costs[f"turbo_thompson_{d}d"] = timed(thompson, 1, device)
    costs[f"turbo_candidates_{d}d"] = float(count)
    return costs


def _synchronised(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def _per_row(predict, d: int, device: torch.device, n: int = 20_000) -> float:
    """Seconds per candidate of a surrogate's prediction."""
    queries = np.random.default_rng(1).standard_normal((n, d))
    return timed(lambda: predict(queries), 1, device) / n


def _tree_costs(rng: np.random.Generator) -> dict[str, float]:
    """LightGBM (800 trees of depth 2) on 10,000 grids of 64 codes out of 256."""
    codes = rng.integers(0, 256, (10_000, 64))
    scores = (codes[:, :4] % 7).sum(1) + rng.standard_normal(10_000)
    settings = surrogate_settings(validated({"type": "trees"}, load_schema(), "code_surrogate"))
    surrogate = build_surrogate(settings)
    cpu = torch.device("cpu")
    fit_seconds = timed(lambda: surrogate.fit(codes, scores), 1, cpu)
    queries = rng.integers(0, 256, (5_000, 64))  # with the distance to 10,000 grids
    per_row = timed(lambda: surrogate.acquisition(queries), 1, cpu) / len(queries)
    return {"trees_fit": fit_seconds, "trees_predict": per_row}


def single_call_seconds(device: torch.device) -> dict[str, float]:
    """One SLSQP evaluation's pieces at batch size 1: a surrogate prediction and a GMM log
    density with their gradients (the discriminator's is a decode and a critic pass)."""
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((500, 64)), rng.standard_normal(500)
    surrogate = build_surrogate(surrogate_from({"type": "dngo", "epochs": 1}), device=device)
    surrogate.fit(x, y)
    point = torch.zeros(1, 1, 64, dtype=torch.float64, requires_grad=True)

    def predict_with_gradient() -> None:
        posterior = surrogate.posterior(point)
        (posterior.mean + posterior.variance).sum().backward()

    means = torch.as_tensor(rng.standard_normal((10, 64)))
    scales = torch.ones(10, 64, dtype=torch.float64)

    def density_with_gradient() -> None:
        diff = (point[0, :, None, :] - means[None]) / scales[None]
        torch.logsumexp(-0.5 * diff.pow(2).sum(-1), dim=1).sum().backward()

    calls = 50
    return {
        "predict_1": timed(lambda: [predict_with_gradient() for _ in range(calls)], 1, device)
        / calls,
        "gmm_1": timed(lambda: [density_with_gradient() for _ in range(calls)], 1, device) / calls,
    }


def pretraining_rows(spec: dict[str, Any], costs: dict[str, dict[str, float]]) -> list[dict]:
    """Per model: seconds per step and per epoch, epochs, hours of the whole pretraining."""
    rows = []
    for name, model in spec["models"].items():
        faces = model["dataset"] == "celeba_dialog"
        per_epoch_batches = (N_FACES if faces else N_THREES) // model["batch_size"]
        steps = per_epoch_batches / model["hparams"].get("n_dis", 1)
        rows.append(_row(name, costs[name]["step"], steps, model["epochs"]))
    for role in PREDICTOR_ROLES:
        predictor = spec["predictor"][role]
        steps = N_PREDICTOR // predictor["batch_size"]
        name = f"{role} ({predictor['architecture']})"
        rows.append(_row(name, costs[role]["step"], steps, predictor["epochs"]))
    return rows


def _row(name: str, step: float, steps_per_epoch: float, epochs: float) -> dict:
    per_epoch = step * steps_per_epoch
    return {
        "model": name,
        "step_s": step,
        "steps_per_epoch": steps_per_epoch,
        "epoch_s": per_epoch,
        "epochs": epochs,
        "hours": per_epoch * epochs / 3600,
    }


def iteration_parts(
    experiment: dict[str, Any], spec: dict[str, Any], costs: dict[str, dict[str, float]]
) -> dict[str, float]:
    """Seconds of one iteration (a retraining and r queries) of ``experiment``, by part."""
    model = spec["models"][experiment["model"]]
    m, s = costs[experiment["model"]], costs["surrogates"]
    faces = model["dataset"] == "celeba_dialog"
    n = N_FACES if faces else N_THREES
    optimizer, constraint = experiment["optimizer"], experiment["constraint"]
    r = experiment["retrain_every"]
    r = experiment["budget"] if math.isinf(r) else int(r)
    score = costs["black_box"]["score"] if faces else 0.0
    n_dis = model["hparams"].get("n_dis", 1)
    batches = experiment["retrain_epochs"] * n / experiment["batch_size"]
    step = m["step"] * experiment["batch_size"] / model["batch_size"]
    parts = {"retrain": max(1, round(batches / n_dis)) * step}
    kind = constraint["type"]
    q = optimizer.get("batch_size") or r
    rounds = math.ceil(r / q)  # the loop fits the constraint every round
    if optimizer["type"] == "turbo" and optimizer["joint_update"]:
        if r != experiment["budget"]:
            raise NotImplementedError("LOL-BO is projected with retrain_every .inf only")
        rounds = joint_update_schedule(optimizer, r)["rounds"]
    parts["constraint"] = rounds * {
        "gmm_full": n * m.get("encode", 0.0),
        "gmm_fit": n * (m.get("encode", 0.0) + s.get(f"gmm_fit_{model['latent_dim']}d", 0.0)),
        "discriminator": constraint.get("n_samples", 0) * m.get("discriminate", 0.0),
    }.get(kind, 0.0)
    generated = optimizer.get("generated_samples") or 0
    parts["generated samples"] = generated * (m["decode"] + score)
    recentred = 0  # LOL-BO's recentred points: encoded again, then decoded and scored
    if optimizer["type"] == "turbo":
        parts["search"], recentred = turbo_search(optimizer, kind, model, m, s, n, r)
    else:
        parts["search"] = search_seconds(optimizer, kind, model, m, s, n, r)
    parts["queries"] = r * (m["decode"] + score) + recentred * m.get("encode", 0.0)
    return parts


def turbo_search(optimizer, constraint, model, m, s, n, r) -> tuple[float, int]:
    """Seconds of the trust-region optimiser's calls in one iteration (one model version,
    or for LOL-BO the whole run), and the points LOL-BO's recentering scores (0 otherwise).

    Per model version the approximate GP trains on every point for ``initial_epochs``; each
    later round on the round's q new points for ``update_epochs``; each round checks the
    Sobol candidates against the constraint and Thompson-samples among them. A joint update
    fine-tunes the model and the GP on the newest batch and the top k for ``joint_epochs``
    (one batch per ``joint_batch_size`` images, the last absorbing the remainder), after
    which the next round starts a new model version."""
    d = model["latent_dim"]
    points = optimizer.get("generated_samples") or n  # a GAN's: its generated samples
    if not optimizer["joint_update"] and points <= optimizer["exact_max"]:
        raise NotImplementedError("the exact GP (n <= exact_max) is not measured")
    q = optimizer.get("batch_size") or r
    density = s.get(f"gmm_density_{d}d", 0.0)
    if constraint == "discriminator":
        density = m["discriminate"]
    per_round = s[f"turbo_candidates_{d}d"] * density + s[f"turbo_thompson_{d}d"]
    initial = optimizer["initial_epochs"] * points * s[f"turbo_epoch_{d}d"]
    update = s[f"turbo_update_{d}d"]
    if not optimizer["joint_update"]:
        rounds = math.ceil(r / q)
        return initial + (rounds - 1) * update + rounds * per_round, 0
    plan = joint_update_schedule(optimizer, r)
    images = optimizer["top_k"] + q  # the newest batch and the top k, assumed disjoint
    per_image = m["step"] / model["batch_size"] + 3 * m["encode"]  # loss, and the means
    batches = max(1, images // optimizer["joint_batch_size"])
    fine_tune = optimizer["joint_epochs"] * (images * per_image + batches * s[f"turbo_step_{d}d"])
    seconds = (
        plan["versions"] * initial
        + (plan["rounds"] - plan["versions"]) * update
        + plan["rounds"] * per_round
        + plan["joint_updates"] * fine_tune
    )
    return seconds, plan["recentred"]


def joint_update_schedule(optimizer: dict[str, Any], budget: int) -> dict[str, int]:
    """LOL-BO's run if no round finds a new best: a joint update after every ``e2e_freq``
    rounds, its recentering scoring the newest batch and the top k (all new images) out of
    the budget. Returns the rounds, joint updates, model versions that hold a round and
    recentred points."""
    q, left = optimizer["batch_size"], budget
    plan = {"rounds": 0, "joint_updates": 0, "versions": 0, "recentred": 0}
    new_version, stalled = True, 0
    while left > 0:
        plan["rounds"] += 1
        plan["versions"] += new_version
        new_version, left, stalled = False, left - min(q, left), stalled + 1
        if stalled == optimizer["e2e_freq"]:
            scored = min(optimizer["top_k"] + q, left)
            plan["joint_updates"] += 1
            plan["recentred"] += scored
            new_version, left, stalled = True, left - scored, 0
    return plan


def search_seconds(optimizer, constraint, model, m, s, n, r) -> float:
    """The optimiser's calls in one iteration: surrogate fits, candidates, local searches."""
    kind = optimizer["type"]
    if kind == "grid":
        snapshot = 17**2 if model["latent_dim"] == 2 else 0
        return (optimizer["grid_len"] ** 2 + snapshot) * m["decode"]
    if kind == "codes":
        moves = optimizer["n_starts"] * optimizer["maxiter"] * model["latent_dim"] * 255
        pool = optimizer["n_candidates"] + moves
        return n * m["encode"] + s["trees_fit"] + pool * s["trees_predict"] + r * m["decode"]
    q = optimizer.get("batch_size") or r
    rounds = math.ceil(r / q)
    fit, predict = surrogate_step(optimizer, model, s, n)
    density = s.get(f"gmm_density_{model['latent_dim']}d", 0.0)
    per_candidate = predict + (m["discriminate"] if constraint == "discriminator" else density)
    per_round = fit + optimizer["n_candidates"] * per_candidate
    if kind == "local":
        per_eval = s["predict_1"] + (
            3 * m["discriminate"] if constraint == "discriminator" else s["gmm_1"]
        )
        per_round += optimizer["n_starts"] * optimizer["maxiter"] * per_eval
    return rounds * per_round


def surrogate_step(optimizer, model, s, n) -> tuple[float, float]:
    """Seconds of one surrogate fit, and of its prediction per candidate: DNGO's scale with
    its training set (n_best + n_random, at most the data; a GAN's: its generated samples)."""
    if optimizer["type"] == "stronger_nas":
        return s["sgp_1100_128d"], s["sgp_1100_128d_predict"]
    surrogate = optimizer["surrogate"]["type"]
    if surrogate == "gp":
        return s["gp_6450_16d"], s["gp_6450_16d_predict"]
    available = optimizer.get("generated_samples") or n
    chosen = (optimizer.get("n_best") or available) + (optimizer.get("n_random") or 0)
    size = min(chosen, available)
    reference = "dngo_100k_128d" if size > 50_000 else "dngo_10k_64d"
    per_point = s[reference] / (100_000 if size > 50_000 else 10_000)
    return per_point * size, s[f"{reference}_predict"]


def once_per_run(experiment: dict[str, Any], spec: dict[str, Any], s: dict[str, float]) -> float:
    """Seconds spent once in a run: building the trust-region optimiser's approximate GP
    (its inducing points placed among the first version's points; it persists)."""
    optimizer, model = experiment["optimizer"], spec["models"][experiment["model"]]
    if optimizer["type"] != "turbo":
        return 0.0
    n = N_FACES if model["dataset"] == "celeba_dialog" else N_THREES
    points = optimizer.get("generated_samples") or n
    return points * s[f"turbo_build_{model['latent_dim']}d"]


def run_rows(spec: dict[str, Any], costs: dict[str, dict[str, float]]) -> list[dict]:
    rows = []
    for name, experiment in spec["experiments"].items():
        parts = iteration_parts(experiment, spec, costs)
        r = experiment["retrain_every"]
        per = experiment["budget"] if math.isinf(r) else int(r)
        iterations = math.ceil(experiment["budget"] / per)
        seconds = sum(parts.values())
        initial = {**experiment, "retrain_epochs": experiment["initial_retrain_epochs"]}
        first = iteration_parts(initial, spec, costs)["retrain"] - parts["retrain"]
        first += once_per_run(experiment, spec, costs["surrogates"])
        rows.append(
            {
                "experiment": name,
                "model": experiment["model"],
                "iterations": iterations,
                "parts": parts,
                "iteration_s": seconds,
                "hours_per_seed": (iterations * seconds + first) / 3600,
                "seeds": len(experiment["seeds"]),
            }
        )
    return rows


def measure(spec: dict[str, Any], device: torch.device) -> dict[str, dict[str, float]]:
    """Every cost, each network timed once per architecture (the two SN-GANs differ only in
    their first linear layer's input: z = 64 or 128)."""
    costs, by_architecture = {}, {}
    for name, model in spec["models"].items():
        key = json.dumps([model["type"], model["batch_size"], model["hparams"]], sort_keys=True)
        if key not in by_architecture:
            by_architecture[key] = model_costs(model, device)
        costs[name] = by_architecture[key]
    for role in PREDICTOR_ROLES:
        costs[role] = predictor_costs(spec["predictor"][role], device)
    costs["surrogates"] = {
        **surrogate_costs(device),
        **single_call_seconds(device),
        **turbo_costs(spec, device),
    }
    return costs


def print_tables(label: str, pretraining: list[dict], runs: list[dict]) -> None:
    print(f"\n### {label}\n")
    print("| model | step (s) | steps / epoch | epoch | epochs | pretraining |")
    print("|---|---|---|---|---|---|")
    for row in pretraining:
        print(
            f"| {row['model']} | {row['step_s']:.3f} | {row['steps_per_epoch']:,.0f} | "
            f"{_duration(row['epoch_s'])} | {row['epochs']:g} | {_duration(row['hours'] * 3600)} |"
        )
    print(
        "\n| run | iterations | one iteration | retrain / constraint / generated / search / "
        "queries (s) | per seed |"
    )
    print("|---|---|---|---|---|")
    for row in runs:
        parts = " / ".join(f"{v:,.1f}" for v in row["parts"].values())
        print(
            f"| {row['experiment']} | {row['iterations']} | {_duration(row['iteration_s'])} | "
            f"{parts} | {_duration(row['hours_per_seed'] * 3600)} |"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--json", type=Path, default=None, help="write the costs and tables")
    parser.add_argument("--from-json", type=Path, default=None, help="print a saved run's tables")
    args = parser.parse_args()
    spec = thesis_spec()
    if args.from_json is not None:
        for label, saved in json.loads(args.from_json.read_text()).items():
            costs = saved["costs"]
            print_tables(label, pretraining_rows(spec, costs), run_rows(spec, costs))
        return
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"skipped: --device {args.device} but no CUDA device is available")
        return
    device = resolve_device(args.device)
    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        with threadpool_limits(threads), precision_policy(args.precision, device):
            start = time.perf_counter()
            costs = measure(spec, device)
            took = time.perf_counter() - start
        label = f"{device}, {threads} thread(s), {args.precision} (measured in {took:.0f} s)"
        results[label] = {"costs": costs}
        if args.json is not None:  # the measurements first, in case a projection fails
            args.json.write_text(json.dumps(results, indent=1))
        pretraining, runs = pretraining_rows(spec, costs), run_rows(spec, costs)
        print_tables(label, pretraining, runs)
        results[label] = {"costs": costs, "pretraining": pretraining, "runs": runs}
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1))
    print(
        json.dumps(
            {
                label: {r["experiment"]: round(r["hours_per_seed"], 3) for r in v["runs"]}
                for label, v in results.items()
            }
        )
    )


if __name__ == "__main__":
    main()
