"""Pipeline steps of conditional generation: joint training, one BO run, the table.

Each function reads and writes files only through its arguments, one per Snakemake rule. The
figures are in :mod:`lso.steps.condgen_figures`, so that editing them reruns no BO run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lso.condgen.bo import TOP_K, run_bo, summarise_condgen, top_evaluations
from lso.condgen.objective import decoded_images, decoded_objective, decoded_probabilities
from lso.config.types import CondgenSearchSettings, JointTrainingSettings
from lso.models.build import build_model
from lso.models.checkpoint import load_checkpoint
from lso.models.fitting import FitSettings
from lso.runtime import job_device, seed_everything
from lso.tasks.digits.labelled import fit_labelled_and_save
from lso.utils import PathLike, atomic_path


def train_joint(
    dataset_path: PathLike,
    spec: JointTrainingSettings,
    predictor: str,
    *,
    checkpoint: PathLike,
    train_log: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """Train a 2-D VAE jointly with a predictor head (``off``, ``classifier``, ``regressor``)."""
    device = job_device(device_name, precision)
    seed_everything(spec.seed)
    hparams = {
        "latent_dim": 2,
        "predictor": predictor,
        "predictor_weight": spec.predictor_weight,
        "beta": spec.beta,
    }
    model = build_model("joint_vae", hparams).to(device)
    fit_labelled_and_save(
        model,
        dataset_path,
        FitSettings(spec.epochs, spec.batch_size, spec.lr, optimizer=spec.optimizer),
        seed=spec.seed,
        checkpoint=checkpoint,
        train_log=train_log,
        description=predictor,
    )


def condgen_run(
    joint_checkpoint: PathLike,
    classifier_checkpoint: PathLike,
    spec: CondgenSearchSettings,
    target: int,
    seed: int,
    *,
    binarise: bool,
    arrays: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
) -> None:
    """One BO run for one target digit; saves every evaluation and the best decoded images.

    ``binarise``: the classifier judges decoded images rounded to {0, 1} (it was trained on
    binarised digits) instead of pixel means; the saved top images are the judged ones.
    Besides the objective, each evaluation's p(target) is saved, so that the table can apply
    any success threshold without rerunning BO.
    """
    device = job_device(device_name, precision)
    decoder_model = load_checkpoint(joint_checkpoint, device)
    classifier = load_checkpoint(classifier_checkpoint, device)

    def objective(t: torch.Tensor) -> torch.Tensor:
        return decoded_objective(
            t.to(device), target, decoder_model, classifier, binarise=binarise
        ).cpu()

    result = run_bo(
        objective,
        seed=seed,
        bounds=spec.bounds,
        n_initial=spec.n_initial,
        n_iterations=spec.n_iterations,
        xi=spec.xi,
    )
    top_t, top_values = top_evaluations(result, k=TOP_K)
    top_images = decoded_images(top_t.to(device, torch.float32), decoder_model, binarise=binarise)
    probabilities = decoded_probabilities(result.t, decoder_model, classifier, binarise=binarise)
    with atomic_path(arrays) as tmp:
        np.savez_compressed(
            tmp,
            target=np.int64(target),
            seed=np.int64(seed),
            t=result.t.numpy(),
            values=result.values.numpy(),
            p_target=probabilities[:, target].cpu().numpy(),
            top_images=top_images.cpu().numpy(),
            top_values=top_values.numpy(),
            bounds=np.float64(result.bounds),
            xi=np.float64(result.xi),
        )


def condgen_table(runs: list[PathLike], probability: float, output: PathLike) -> None:
    """``condgen.csv``: one row per target and seed; success means p(target) >= probability."""
    rows = []
    for path in runs:
        with np.load(Path(path)) as run:
            row = summarise_condgen(run["values"], run["p_target"], int(run["target"]), probability)
            rows.append({**row, "seed": int(run["seed"])})
    table = pd.DataFrame(rows).sort_values(["target", "seed"])
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)
