"""Figure steps: finished runs, data sets, pretraining and calibration files to figures.

Nothing here imports torch: a figure job reads result files with pandas and NumPy and draws
with matplotlib, so it starts in a fraction of a training job's time, and editing a figure
reruns figure jobs only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lso.core.datafiles import read_npz
from lso.core.runfiles import load_run, load_run_arrays
from lso.figures import curves as curve_figures
from lso.figures import images as image_figures
from lso.figures.common import save_figure
from lso.tasks.digits.dataset import load_dataset
from lso.utils import InputError, PathLike

RELIABILITY_BINS = 15  # as the predictors' ECE (torchmetrics' default, Guo et al.)


def plot_comparison(
    runs: dict[str, list[PathLike]],
    labels: dict[str, str],
    top_k: list[int],
    title: str,
    output: PathLike,
    pdf: bool = False,
) -> None:
    """Top-k best-so-far curves of several experiments on one axis (mean ± std over seeds),
    and the running fraction of valid queries beside them when the classifier judged them."""
    curves = {
        labels.get(name, name): [load_run(d).queries["score"].to_numpy() for d in dirs]
        for name, dirs in runs.items()
    }
    validity = None
    if all((Path(d) / "validity.csv").is_file() for dirs in runs.values() for d in dirs):
        validity = {
            labels.get(name, name): [
                pd.read_csv(Path(d) / "validity.csv")["valid_fraction_so_far"].to_numpy()
                for d in dirs
            ]
            for name, dirs in runs.items()
        }
    fig = curve_figures.plot_score_curves(
        curves, top_k=tuple(top_k), title=title, validity=validity
    )
    save_figure(fig, output, pdf)


def plot_best_images(run_dirs: list[PathLike], n: int, title: str, output: PathLike) -> None:
    """The best images an experiment found over all its seeds."""
    arrays = [load_run_arrays(d) for d in run_dirs]
    images = np.concatenate([a.images for a in arrays])
    scores = np.concatenate([a.scores for a in arrays])
    save_figure(image_figures.plot_best_images(images, scores, n=n, title=title), output)


def plot_snapshots(run_dirs: list[PathLike], max_panels: int, output: PathLike) -> None:
    """Latent snapshots of every seed of a 2-D experiment, queries overlaid, a row per seed."""
    runs = {Path(d).name: load_run_arrays(d) for d in run_dirs}
    save_figure(image_figures.plot_latent_snapshots(runs, max_panels=max_panels), output)


def plot_diagnostics(run_dirs: list[PathLike], title: str, output: PathLike) -> None:
    """Per-round optimiser timings and surrogate quality of one experiment, per seed."""
    runs = {f"seed {load_run(d).seed}": pd.read_csv(Path(d) / "diagnostics.csv") for d in run_dirs}
    save_figure(curve_figures.plot_diagnostics(runs, title=title), output)


def plot_weights(dataset_path: PathLike, k_values: list[float], output: PathLike) -> None:
    """How rank weighting with each k reshapes the training data's score distribution."""
    scores = load_dataset(dataset_path)["train_scores"]
    save_figure(
        curve_figures.plot_weight_distribution(scores, [float(k) for k in k_values]), output
    )


def plot_training(train_log: PathLike, output: PathLike) -> None:
    """Loss curves of a pretraining run."""
    save_figure(curve_figures.plot_training_log(pd.read_csv(train_log)), output)


def plot_model_samples(samples: PathLike, output: PathLike) -> None:
    """What pretraining saved of a model (``samples.npz``): reconstructions and samples, the
    decoded 2-D manifold, or a monitor's samples of fixed latent points."""
    arrays = read_npz(samples)
    kind = str(arrays.get("kind", ""))
    if kind == "rows":
        fig = image_figures.plot_image_rows(
            list(arrays["rows"]),
            [str(label) for label in arrays["labels"]],
            "samples of fixed latent points",
        )
    elif kind == "reconstructions":
        fig = image_figures.plot_reconstructions(
            arrays["originals"], arrays["reconstructions"], arrays["samples"]
        )
    elif kind == "overview":
        manifold = arrays["manifold"]
        fig = image_figures.plot_model_overview(
            arrays["originals"],
            arrays["reconstructions"],
            manifold,
            grid_len=round(len(manifold) ** 0.5),
            bounds=float(arrays["bounds"]),
        )
    else:
        raise InputError(f"{samples}: unknown samples kind {kind!r}")
    save_figure(fig, output)


def plot_reliability(calibration: PathLike, role: str, output: PathLike) -> None:
    """A predictor's reliability diagram before and after temperature scaling."""
    arrays = read_npz(calibration)
    temperature = float(arrays["temperature"])
    panels = {
        f"before scaling, ECE {float(arrays['ece_before']):.3f}": arrays["probabilities_before"],
        f"after (T = {temperature:.2f}), ECE {float(arrays['ece_after']):.3f}": arrays[
            "probabilities_after"
        ],
    }
    labels = arrays["labels"]
    fig = curve_figures.plot_reliability(
        panels,
        labels,
        RELIABILITY_BINS,
        title=f"{role} predictor on its {len(labels)} validation faces",
    )
    save_figure(fig, output)
