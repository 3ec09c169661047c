"""Figure steps of the faces runs that need a network: the headline faces with both
predictors' scores, and a GAN run's discriminator scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lso.core.features import batched
from lso.core.runfiles import load_run, load_run_arrays
from lso.figures.common import save_figure
from lso.figures.curves import plot_score_histograms
from lso.figures.images import best_unique, plot_side_by_side
from lso.models.base import LatentModel
from lso.models.checkpoint import load_checkpoint
from lso.runtime import job_device, resolve_device
from lso.tasks.faces.dataset import cap_level_images, generative_split, load_face_dataset
from lso.tasks.faces.objective import SmileObjective
from lso.utils import PathLike

HEADLINE_TILES = 9  # 3 x 3 faces each side, as the thesis's figure


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


def plot_headline(
    run_dirs: list[PathLike],
    dataset_path: PathLike,
    black_box_checkpoint: PathLike,
    judge_checkpoint: PathLike,
    title: str,
    output: PathLike,
) -> None:
    """The thesis's headline figure: training faces at the cap level beside the best queries.

    Left, the 9 training faces at the cap level (the best the model was shown) that the black
    box scores highest; right, the 9 best distinct queries over all seeds. Each face is titled
    with the black box's score and, after the slash, the judge's. It scores a few hundred
    faces, so it runs on the CPU.
    """
    device = resolve_device("cpu")
    black_box = SmileObjective.load(black_box_checkpoint, device)
    judge = SmileObjective.load(judge_checkpoint, device)
    data = load_face_dataset(dataset_path)
    cap_faces = cap_level_images(data)
    cap_scores = black_box(cap_faces)
    cap_best = np.argsort(-cap_scores, kind="stable")[:HEADLINE_TILES]
    runs = [load_run_arrays(run_dir) for run_dir in run_dirs]
    queries = np.concatenate([run.images for run in runs])
    scores = np.concatenate([run.scores for run in runs])
    chosen = best_unique(queries, scores, HEADLINE_TILES)
    fig = plot_side_by_side(
        (cap_faces[cap_best], _titles(cap_scores[cap_best], judge(cap_faces[cap_best]))),
        (queries[chosen], _titles(scores[chosen], judge(queries[chosen]))),
        (f"training faces at level {int(data['max_level'])}", "best queries"),
        title,
    )
    save_figure(fig, Path(output))


def _titles(objective: np.ndarray, judge: np.ndarray) -> list[str]:
    return [f"{o:.2f} / {j:.2f}" for o, j in zip(objective, judge, strict=True)]
