"""Tests for the report figures (lso.plots): shapes of figures, files written, orientation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from lso.core.runfiles import LatentSnapshots, RunArrays
from lso.figures.common import save_figure, tile_grid
from lso.figures.curves import plot_score_curves, plot_training_log, plot_weight_distribution
from lso.figures.images import (
    plot_best_images,
    plot_image_grid,
    plot_latent_snapshots,
    plot_manifold,
    plot_reconstructions,
)
from lso.utils import InputError

RNG = np.random.default_rng(0)


def assert_saves(fig: Figure, tmp_path: Path, n_axes: int) -> None:
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes
    path = tmp_path / "figure.png"
    save_figure(fig, path)
    assert path.stat().st_size > 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def regular_grid(grid_len: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    a = np.linspace(low, high, grid_len)
    return np.stack(np.meshgrid(a, a, indexing="ij"), -1).reshape(-1, 2)


def coordinate_images(grid: np.ndarray) -> np.ndarray:
    """Constant images whose pixel value encodes the grid point, to check where tiles land."""
    codes = (grid[:, 0] - grid[:, 0].min()) * 10 + (grid[:, 1] - grid[:, 1].min())
    return np.repeat(codes[:, None, None], 28 * 28, axis=1).reshape(-1, 28, 28)


def test_tile_grid_orientation() -> None:
    grid_len = 4
    grid = regular_grid(grid_len, 0.0, 3.0)
    picture = tile_grid(coordinate_images(grid), grid_len)
    assert picture.shape == (grid_len * 28, grid_len * 28)

    def code(z1: float, z2: float) -> float:
        return z1 * 10 + z2

    assert picture[0, 0] == code(0, 3)  # top-left: min z1, max z2
    assert picture[-1, 0] == code(0, 0)  # bottom-left: min z1, min z2
    assert picture[0, -1] == code(3, 3)  # top-right: max z1, max z2
    assert picture[28 * 1 + 5, 28 * 2 + 5] == code(2, 2)  # second row from top, third column


def test_tile_grid_keeps_digits_upright() -> None:
    images = np.zeros((4, 28, 28))
    images[:, 0, :] = 1.0  # a bar along the top edge of every tile
    picture = tile_grid(images, 2)
    assert picture[0].all() and picture[28].all() and not picture[27].any()


def test_tile_grid_rejects_wrong_count() -> None:
    with pytest.raises(ValueError, match="grid_len=3"):
        tile_grid(np.zeros((8, 28, 28)), 3)


def test_plot_score_curves(tmp_path: Path) -> None:
    curves = {
        "uniform": [RNG.normal(size=30), RNG.normal(size=25)],
        "weighted": [RNG.normal(size=30)],
    }
    fig = plot_score_curves(curves, top_k=(1, 10), title="scores")
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels == ["uniform (n=2, first 25 queries)", "weighted (n=1)"]
    assert fig.axes[1].get_ylabel() == "top-10 mean score"
    assert fig.axes[0].get_xlabel() == "queries"
    line = fig.axes[0].get_lines()[0]
    assert len(line.get_xdata()) == 25
    assert_saves(fig, tmp_path, 2)


def test_plot_best_images_drops_duplicates(tmp_path: Path) -> None:
    images = RNG.random((6, 28, 28)).astype(np.float32)
    images[1] = images[0]
    scores = np.array([5.0, 5.0, 1.0, 4.0, 3.0, 2.0])
    fig = plot_best_images(images, scores, n=4, ncols=2)
    assert [ax.get_title() for ax in fig.axes] == ["5.000", "4.000", "3.000", "2.000"]
    assert_saves(fig, tmp_path, 4)


def snapshot_run(grid, images, snapshot_iterations, latents, iterations) -> RunArrays:
    """A run's arrays holding only what the snapshot figure reads."""
    return RunArrays(
        images=np.zeros((len(iterations), 28, 28)),
        latents=latents,
        scores=np.zeros(len(iterations)),
        iterations=iterations,
        snapshots=LatentSnapshots(grid, images, snapshot_iterations),
    )


def test_plot_latent_snapshots(tmp_path: Path) -> None:
    grid_len, n_snapshots = 5, 10
    grid = regular_grid(grid_len)
    snapshot_images = RNG.integers(0, 256, (n_snapshots, grid_len**2, 28, 28), dtype=np.uint8)
    iterations = np.repeat(np.arange(n_snapshots), 3)
    latents = RNG.normal(size=(len(iterations), 2))
    run = snapshot_run(grid, snapshot_images, np.arange(n_snapshots), latents, iterations)
    fig = plot_latent_snapshots({"seed1": run, "seed2": run}, max_panels=6)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 12  # a row of 6 panels per seed
    assert titles[0] == "seed1, iteration 0"
    assert titles[5] == f"seed1, iteration {n_snapshots - 1}"
    assert titles[6] == "seed2, iteration 0"
    ax = fig.axes[0]
    step = 4.0 / (grid_len - 1)
    np.testing.assert_allclose(ax.images[0].get_extent(), [-2 - step / 2, 2 + step / 2] * 2)
    bottom, top = ax.get_ylim()
    assert bottom < top  # z2 increases upwards
    assert_saves(fig, tmp_path, 12)


def test_plot_latent_snapshots_overlays_queries_up_to_iteration() -> None:
    grid = regular_grid(3)
    latents = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    iterations = np.array([0, 1, 2])
    images = np.zeros((2, 9, 28, 28), np.uint8)
    fig = plot_latent_snapshots(
        {"seed1": snapshot_run(grid, images, np.array([0, 1]), latents, iterations)}
    )
    earlier, current = fig.axes[1].collections
    np.testing.assert_array_equal(earlier.get_offsets(), [[0.0, 0.0]])
    np.testing.assert_array_equal(current.get_offsets(), [[1.0, 1.0]])


def test_plot_latent_snapshots_rejects_transposed_grid() -> None:
    grid = regular_grid(3)[:, ::-1]
    run = snapshot_run(
        grid, np.zeros((1, 9, 28, 28)), np.array([0]), np.zeros((1, 2)), np.array([0])
    )
    with pytest.raises(ValueError, match="indexing='ij'"):
        plot_latent_snapshots({"seed1": run})


def test_plot_weight_distribution(tmp_path: Path) -> None:
    scores = RNG.normal(size=500)
    fig = plot_weight_distribution(scores, [1e-3, float("inf")], bins=20)
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "unweighted (top 10%: 10.0%)"
    assert labels[1].startswith("k=0.001 (top 10%:")
    assert labels[2] == "k=∞ (uniform) (top 10%: 10.0%)"
    assert_saves(fig, tmp_path, 1)


def training_log(with_terms: bool) -> pd.DataFrame:
    steps = np.arange(1, 21)
    train = pd.DataFrame({"step": steps, "epoch": steps / 10, "split": "train", "loss": 1 / steps})
    val = pd.DataFrame({"step": [10, 20], "epoch": [1.0, 2.0], "split": "val", "loss": [0.2, 0.1]})
    log = pd.concat([train, val], ignore_index=True)
    if with_terms:
        log["recon"] = log["loss"] * 0.9
        log["kl"] = log["loss"] * 0.1
        log["beta"] = np.where(log["split"] == "train", 1.0, np.nan)
    return log


@pytest.mark.parametrize("with_terms, n_axes", [(True, 2), (False, 1)])
def test_plot_training_log(tmp_path: Path, with_terms: bool, n_axes: int) -> None:
    fig = plot_training_log(training_log(with_terms))
    assert fig.axes[0].get_yscale() == "log"
    assert_saves(fig, tmp_path, n_axes)


def test_plot_image_grid_and_reconstructions(tmp_path: Path) -> None:
    images = RNG.random((12, 28, 28))
    assert_saves(plot_image_grid(images, 2, 5, title="samples"), tmp_path, 10)
    fig = plot_reconstructions(images, 1 - images, n=4)
    assert fig.axes[4].get_ylabel() == "reconstruction"
    assert_saves(fig, tmp_path, 8)


def test_plot_manifold(tmp_path: Path) -> None:
    fig = plot_manifold(RNG.random((16, 28, 28)), 4, (-3.0, 3.0))
    np.testing.assert_allclose(fig.axes[0].images[0].get_extent(), [-4, 4, -4, 4])
    assert_saves(fig, tmp_path, 1)


def test_save_figure_writes_pdf_and_rejects_other_suffix(tmp_path: Path) -> None:
    save_figure(plot_image_grid(RNG.random((2, 28, 28)), 1, 2), tmp_path / "a.png", pdf=True)
    assert (tmp_path / "a.pdf").stat().st_size > 0
    with pytest.raises(InputError, match="must end in .png"):
        save_figure(Figure(), tmp_path / "a.jpg")


def test_plot_diagnostics_draws_only_available_panels() -> None:
    from lso.figures.curves import plot_diagnostics

    grid_run = pd.DataFrame(
        {
            "queries": [5, 10],
            "propose_seconds": [0.5, 0.6],
            "predictive_log_likelihood": [np.nan, np.nan],
        }
    )
    bo_run = grid_run.assign(
        surrogate_fit_seconds=[0.1, 0.2],
        acquisition_seconds=[1.0, 0.9],
        predictive_log_likelihood=[1.5, 2.0],
    )
    assert len(plot_diagnostics({"seed 1": grid_run}).axes) == 1
    assert len(plot_diagnostics({"seed 1": bo_run, "seed 2": bo_run}).axes) == 4
    turbo_run = bo_run.assign(trust_region_length=[0.8, 0.4])
    axes = plot_diagnostics({"seed 1": turbo_run}).axes
    assert len(axes) == 5 and axes[-1].get_title() == "trust-region side (TuRBO)"
