"""The SN-GAN runs' own figure: the discriminator's scores of queries and of the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lso import plots
from lso.data.face_dataset import generative_split, load_face_dataset
from lso.face_evaluation import batched
from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint
from lso.results import load_run
from lso.utils import PathLike, resolve_device


def plot_discriminator_scores(
    run_dirs: list[PathLike],
    dataset_path: PathLike,
    model_checkpoint: PathLike,
    quantile: float,
    title: str,
    output: PathLike,
    device_name: str = "auto",
    n_reference: int = 2000,
) -> None:
    """Where a GAN run's queries sit among the discriminator's scores.

    Histograms of the *pretrained* discriminator's logits of training faces and of prior
    samples (with the constraint's quantile of the latter marked), beside the logits the
    queries had when they were chosen (the ``log_density`` column of ``queries.csv``, under
    the discriminator of that moment). A hinge-trained discriminator is uncalibrated, so only
    the ranks within one figure mean anything.
    """
    device = resolve_device(device_name)
    model = load_checkpoint(model_checkpoint, device, expected=LatentModel)
    train = generative_split(load_face_dataset(dataset_path))["train_images"][:n_reference]
    generator = torch.Generator().manual_seed(0)
    prior = torch.randn(n_reference, model.latent_dim, generator=generator)
    with torch.no_grad(), model.evaluating():
        logits = {
            "training faces": batched(model.discriminate, train, device),
            "prior samples": batched(
                lambda z: model.discriminate(model.decode(z)), prior.numpy(), device
            ),
        }
    logits["queries (at query time)"] = np.concatenate(
        [load_run(run_dir).queries["log_density"].to_numpy() for run_dir in run_dirs]
    )
    threshold = float(np.quantile(logits["prior samples"], quantile))
    fig = plots.plot_score_histograms(logits, threshold, f"prior {quantile:g}-quantile", title)
    plots.save_figure(fig, Path(output))
