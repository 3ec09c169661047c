"""Tables and figures of finished runs, data sets and pretraining logs (one per rule).

Nothing here imports torch: a figure job reads result files with pandas and NumPy and draws
with matplotlib, so it starts in a fraction of a training job's time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lso import plots
from lso.data.mnist import load_dataset
from lso.results import load_run, load_run_arrays, mean_std_table, summarise_runs
from lso.utils import PathLike, atomic_path


def summarise(
    run_dirs: list[PathLike], top_k: list[int], *, summary: PathLike, mean_std: PathLike
) -> None:
    """Write the per-run summary and the per-experiment mean ± std table.

    Runs judged by the classifier (``evaluation.json``) gain its validity and Fréchet distance.
    """
    table = summarise_runs([load_run(d) for d in run_dirs], top_k=tuple(top_k))
    with atomic_path(summary) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(mean_std) as tmp:
        mean_std_table(table).to_csv(tmp, index=False)


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
    fig = plots.plot_score_curves(curves, top_k=tuple(top_k), title=title, validity=validity)
    plots.save_figure(fig, output, pdf)


def plot_best_images(run_dirs: list[PathLike], n: int, title: str, output: PathLike) -> None:
    """The best images an experiment found over all its seeds."""
    arrays = [load_run_arrays(d) for d in run_dirs]
    images = np.concatenate([a.images for a in arrays])
    scores = np.concatenate([a.scores for a in arrays])
    plots.save_figure(plots.plot_best_images(images, scores, n=n, title=title), output)


def plot_snapshots(run_dirs: list[PathLike], max_panels: int, output: PathLike) -> None:
    """Latent snapshots of every seed of a 2-D experiment, queries overlaid, a row per seed."""
    runs = {Path(d).name: load_run_arrays(d) for d in run_dirs}
    plots.save_figure(plots.plot_latent_snapshots(runs, max_panels=max_panels), output)


def plot_diagnostics(run_dirs: list[PathLike], title: str, output: PathLike) -> None:
    """Per-round optimiser timings and surrogate quality of one experiment, per seed."""
    runs = {f"seed {load_run(d).seed}": pd.read_csv(Path(d) / "diagnostics.csv") for d in run_dirs}
    plots.save_figure(plots.plot_diagnostics(runs, title=title), output)


def plot_weights(dataset_path: PathLike, k_values: list[float], output: PathLike) -> None:
    """How rank weighting with each k reshapes the training data's score distribution."""
    scores = load_dataset(dataset_path)["train_scores"]
    plots.save_figure(plots.plot_weight_distribution(scores, [float(k) for k in k_values]), output)


def plot_training(train_log: PathLike, output: PathLike) -> None:
    """Loss curves of a pretraining run."""
    plots.save_figure(plots.plot_training_log(pd.read_csv(train_log)), output)
