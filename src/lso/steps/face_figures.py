"""The figure step of the faces runs that needs a network: a GAN run's discriminator scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lso.core.features import batched
from lso.core.runfiles import load_run
from lso.figures.common import save_figure
from lso.figures.curves import plot_score_histograms
from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint
from lso.runtime import job_device
from lso.tasks.faces.dataset import generative_split, load_face_dataset
from lso.utils import PathLike


def plot_discriminator_scores(
    run_dirs: list[PathLike],
    dataset_path: PathLike,
    model_checkpoint: PathLike,
    quantile: float,
    title: str,
    output: PathLike,
    device_name: str = "auto",
    precision: str = "fp32",
    n_reference: int = 2000,
) -> None:
    """Where a GAN run's queries sit among the discriminator's scores.

    Histograms of the *pretrained* discriminator's logits of training faces and of prior
    samples (with the constraint's quantile of the latter marked), beside the logits the
    queries had when they were chosen (the ``log_density`` column of ``queries.csv``, under
    the discriminator of that moment). A hinge-trained discriminator is uncalibrated, so only
    the ranks within one figure mean anything.
    """
    device = job_device(device_name, precision)
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
    fig = plot_score_histograms(logits, threshold, f"prior {quantile:g}-quantile", title)
    save_figure(fig, Path(output))
