"""Image figures: best images, side-by-side panels, reconstructions, latent manifolds."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lso.core.runfiles import RunArrays
from lso.figures.common import (
    PALETTE,
    PANEL_INCHES,
    TILE_INCHES,
    as_unit,
    check_images,
    grid_axes,
    image_panels,
    new_figure,
    set_title,
    show_manifold,
    style_axes,
)


def plot_best_images(
    images: np.ndarray,
    scores: np.ndarray,
    n: int = 16,
    ncols: int = 8,
    title: str | None = None,
) -> Figure:
    """The ``n`` best distinct images, highest score first, each titled with its score.

    Optimisers often re-query the same point; showing duplicates would hide how diverse the
    good solutions are, so exact repeats are dropped (the earliest query of a tie is kept).
    """
    images = check_images(images, "images")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(images),):
        raise ValueError(f"scores has shape {scores.shape}, expected ({len(images)},)")
    chosen = best_unique(images, scores, n)
    nrows = math.ceil(len(chosen) / ncols) if chosen else 1
    fig = new_figure((TILE_INCHES * ncols, (TILE_INCHES + 0.25) * nrows))
    image_panels(fig, images[chosen], nrows, ncols, [f"{scores[i]:.3f}" for i in chosen])
    set_title(fig, title)
    return fig


def best_unique(images: np.ndarray, scores: np.ndarray, n: int) -> list[int]:
    """Indices of the ``n`` best-scoring distinct images (the earliest of equal images)."""
    chosen: list[int] = []
    seen: set[bytes] = set()
    for index in np.argsort(-scores, kind="stable"):
        key = images[index].tobytes()
        if key not in seen:
            seen.add(key)
            chosen.append(int(index))
            if len(chosen) == n:
                break
    return chosen


def plot_image_grid(images: np.ndarray, nrows: int, ncols: int, title: str | None = None) -> Figure:
    """The first ``nrows × ncols`` images (fewer if fewer are given), e.g. prior samples."""
    images = check_images(images, "images")[: nrows * ncols]
    fig = new_figure((TILE_INCHES * ncols, TILE_INCHES * nrows))
    image_panels(fig, images, nrows, ncols)
    set_title(fig, title)
    return fig


def plot_image_rows(rows: list[np.ndarray], labels: list[str], title: str | None = None) -> Figure:
    """Rows of equally many images, each row labelled on its left (e.g. samples of one fixed
    set of latent points at several moments of a GAN's training)."""
    if len(rows) != len(labels) or not rows:
        raise ValueError(f"need one label per row, got {len(rows)} rows and {len(labels)} labels")
    n = len(rows[0])
    fig = new_figure((TILE_INCHES * n, TILE_INCHES * len(rows) + 0.3))
    image_panels(fig, np.concatenate([check_images(row, "rows") for row in rows]), len(rows), n)
    for row, label in enumerate(labels):
        fig.axes[row * n].set_ylabel(label, fontsize="small")
    set_title(fig, title)
    return fig


def plot_reconstructions(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    samples: np.ndarray | None = None,
    n: int = 10,
) -> Figure:
    """The first ``n`` originals above their reconstructions, then rows of prior ``samples``."""
    originals = check_images(originals, "originals")
    reconstructions = check_images(reconstructions, "reconstructions")
    if originals.shape != reconstructions.shape:
        raise ValueError(
            f"originals {originals.shape} and reconstructions {reconstructions.shape} differ"
        )
    n = min(n, len(originals))
    rows = [originals[:n], reconstructions[:n]]
    labels = ["original", "reconstruction"]
    if samples is not None:
        samples = check_images(samples, "samples")
        for start in range(0, len(samples) - n + 1, n):
            rows.append(samples[start : start + n])
            labels.append("prior sample")
    return plot_image_rows(rows, labels)


def plot_side_by_side(
    left: tuple[np.ndarray, list[str]],
    right: tuple[np.ndarray, list[str]],
    headings: tuple[str, str],
    title: str | None = None,
    ncols: int = 3,
) -> Figure:
    """Two titled grids of images side by side (e.g. training faces beside the best queries)."""
    nrows = max(math.ceil(len(images) / ncols) for images, _ in (left, right)) or 1
    fig = new_figure((2 * TILE_INCHES * ncols + 0.5, (TILE_INCHES + 0.3) * nrows + 0.5))
    panels = zip(fig.subfigures(1, 2), (left, right), headings, strict=True)
    for panel, (images, titles), heading in panels:
        image_panels(panel, check_images(images, heading), nrows, ncols, titles)
        panel.suptitle(heading, fontsize="medium")
    set_title(fig, title)
    return fig


def plot_manifold(
    grid_images: np.ndarray,
    grid_len: int,
    bounds: tuple[float, float],
    title: str | None = None,
) -> Figure:
    """Decoded 2-D latent manifold, in latent coordinates; grid points span ``bounds`` per axis."""
    axis_values = np.linspace(bounds[0], bounds[1], grid_len)
    fig = new_figure((PANEL_INCHES * 1.5, PANEL_INCHES * 1.5))
    ax = fig.add_subplot()
    show_manifold(ax, as_unit(grid_images), axis_values, axis_values)
    style_axes(ax, title, "$z_1$", "$z_2$")
    return fig


def plot_model_overview(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    manifold_images: np.ndarray,
    grid_len: int,
    bounds: float,
) -> Figure:
    """Reconstructions above the decoded manifold: what a 2-D model learned, at a glance."""
    originals, reconstructions = (
        check_images(originals, "originals"),
        check_images(reconstructions, "reconstructions"),
    )
    n = min(len(originals), len(reconstructions))
    fig = new_figure((max(TILE_INCHES * n, PANEL_INCHES * 1.5), PANEL_INCHES * 1.5 + 2.0))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 3.0])
    image_panels(top, np.concatenate([originals[:n], reconstructions[:n]]), 2, n)
    top.axes[0].set_ylabel("original", fontsize="small")
    top.axes[n].set_ylabel("recon.", fontsize="small")
    axis_values = np.linspace(-bounds, bounds, grid_len)
    ax = bottom.add_subplot()
    show_manifold(ax, as_unit(manifold_images), axis_values, axis_values)
    style_axes(ax, "decoded manifold", "$z_1$", "$z_2$")
    return fig


def plot_latent_snapshots(runs: dict[str, RunArrays], max_panels: int = 6) -> Figure:
    """How the decoded manifold and the queried points evolve over retraining iterations.

    One row per run (seed), up to ``max_panels`` snapshots each, evenly spaced and always
    including the first and last. Each panel overlays the queries proposed before that
    iteration and highlights those proposed at it, i.e. the ones the pictured model produced.
    Points outside the grid widen the axes instead of being hidden, so none are dropped.
    """
    rows = {label: _snapshot_panels(run, max_panels) for label, run in runs.items()}
    ncols = max(len(chosen) for chosen, _ in rows.values())
    fig = new_figure((PANEL_INCHES * ncols, PANEL_INCHES * len(rows)))
    for row, (label, (chosen, run)) in enumerate(rows.items()):
        z1_values, z2_values = grid_axes(np.asarray(run.snapshots.grid, dtype=np.float64))
        latents, iterations = _check_latents(run.latents, run.iterations)
        for column, index in enumerate(chosen):
            ax = fig.add_subplot(len(rows), ncols, row * ncols + column + 1)
            iteration = int(run.snapshots.iterations[index])
            image = as_unit(np.asarray(run.snapshots.images)[index])
            show_manifold(ax, image, z1_values, z2_values)
            _overlay_queries(ax, latents, iterations, iteration)
            style_axes(ax, f"{label}, iteration {iteration}", "$z_1$", "$z_2$")
            if row == 0 and column == 0:
                ax.legend(fontsize="small", loc="upper right")
    return fig


def _snapshot_panels(run: RunArrays, max_panels: int) -> tuple[list[int], RunArrays]:
    """Indices of the snapshots to draw for one run (checked to be drawable)."""
    snapshots = run.snapshots
    if snapshots is None or not len(snapshots.iterations):
        raise ValueError("the run recorded no latent snapshots (only 2-D runs do)")
    if len(snapshots.images) != len(snapshots.iterations):
        raise ValueError("need one snapshot_iterations entry per snapshot")
    return list(_spread_indices(len(snapshots.iterations), max_panels)), run


def _check_latents(latents: np.ndarray, iterations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    latents = np.asarray(latents, dtype=np.float64)
    iterations = np.asarray(iterations)
    if latents.ndim != 2 or latents.shape[1] != 2 or iterations.shape != (len(latents),):
        raise ValueError(
            f"need latents (B, 2) and iterations (B,), got {latents.shape} and {iterations.shape}"
        )
    return latents, iterations


def _spread_indices(count: int, max_panels: int) -> list[int]:
    """Up to ``max_panels`` indices evenly spread over ``range(count)``, first and last included."""
    panels = max(1, min(max_panels, count))
    return sorted({int(i) for i in np.round(np.linspace(0, count - 1, panels))})


def _overlay_queries(ax: Axes, latents: np.ndarray, iterations: np.ndarray, iteration: int) -> None:
    earlier = latents[iterations < iteration]
    current = latents[iterations == iteration]
    ax.scatter(
        earlier[:, 0], earlier[:, 1], s=8, color=PALETTE[0], alpha=0.6, label="earlier queries"
    )
    ax.scatter(
        current[:, 0],
        current[:, 1],
        s=24,
        color=PALETTE[1],
        edgecolors="black",
        linewidths=0.5,
        label="this iteration",
    )
