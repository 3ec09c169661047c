"""Figures for the report: optimisation curves, best images, latent snapshots, training logs.

Every plotting function is pure: it takes arrays or DataFrames and returns a
:class:`matplotlib.figure.Figure` built without pyplot, so no global figure state leaks between
calls and nothing depends on a display. Only :func:`save_figure` touches the disk.

Conventions shared by all figures: images are pixel intensities in [0, 1] (``uint8`` arrays are
read as ×255) shown with ``gray_r``, i.e. dark strokes on white as in print; colours come from
the colour-blind-friendly ``tab10`` cycle in a fixed order so a setting keeps its colour across
figures; grid lines are light.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from lso.results import RunArrays, top_k_curve
from lso.utils import InputError, atomic_path
from lso.weighting import rank_weights

PALETTE = tuple(matplotlib.colormaps["tab10"].colors)
IMAGE_CMAP = "gray_r"
DPI = 150
PANEL_INCHES = 4.0
TILE_INCHES = 0.9
TOP_FRACTION = 0.1


def save_figure(fig: Figure, path: str | os.PathLike, pdf: bool = False) -> None:
    """Write ``fig`` as PNG at ``path`` (plus a PDF beside it if asked) and close it.

    Writes go through :func:`~lso.utils.atomic_path` so an interrupted job never leaves a
    truncated image that Snakemake would take for a finished output. The bounding box is fitted
    to the drawn content because constrained layout can clip titles of fixed-aspect panels
    (images, latent manifolds). Closing frees the memory of figures that a long report script
    would otherwise accumulate.
    """
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise InputError(f"{target}: figure path must end in .png")
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png", bbox_inches="tight")
    if pdf:
        with atomic_path(target.with_suffix(".pdf")) as tmp:
            fig.savefig(tmp, format="pdf", bbox_inches="tight")
    plt.close(fig)


def plot_score_curves(
    curves: dict[str, list[np.ndarray]],
    top_k: tuple[int, ...] = (1, 10),
    title: str | None = None,
    validity: dict[str, list[np.ndarray]] | None = None,
) -> Figure:
    """Top-k best-so-far mean ± std over seeds against queries, one panel per ``k``.

    Seeds of one setting can stop after different numbers of queries (e.g. a time limit); the
    band is drawn over their common prefix only, so the mean never mixes different seed sets,
    and the legend says when a setting was cut short. ``validity`` (per setting, per seed, the
    running fraction of queries the classifier accepts) adds a last panel: a score is only
    worth as much as the images still being the digit.
    """
    if not curves:
        raise ValueError("curves is empty; expected at least one setting")
    n_panels = len(top_k) + (validity is not None)
    fig = _new_figure((PANEL_INCHES * 1.3 * n_panels, PANEL_INCHES))
    for index, k in enumerate(top_k):
        ax = fig.add_subplot(1, n_panels, index + 1)
        for colour, (label, seed_scores) in zip(_colours(), curves.items(), strict=False):
            _draw_seed_band(ax, label, seed_scores, k, colour)
        _style_axes(ax, f"top-{k}", "queries", f"top-{k} mean score")
        ax.legend(fontsize="small")
    if validity is not None:
        ax = fig.add_subplot(1, n_panels, n_panels)
        for colour, (label, fractions) in zip(_colours(), validity.items(), strict=False):
            _draw_mean_band(ax, label, fractions, colour)
        ax.set_ylim(-0.02, 1.02)
        _style_axes(ax, "validity", "queries", "fraction of queries classified valid")
    _set_title(fig, title)
    return fig


def _draw_mean_band(ax: Axes, label: str, series: list[np.ndarray], colour: tuple) -> None:
    """Mean ± std over seeds of per-query series, over their common prefix."""
    length = min(len(values) for values in series)
    stacked = np.stack([np.asarray(values, dtype=np.float64)[:length] for values in series])
    x = np.arange(1, length + 1)
    mean = stacked.mean(axis=0)
    ax.plot(x, mean, color=colour, label=label)
    if len(series) > 1:
        std = stacked.std(axis=0, ddof=1)
        ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.2, linewidth=0)


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
    images = _check_images(images, "images")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(images),):
        raise ValueError(f"scores has shape {scores.shape}, expected ({len(images)},)")
    chosen = best_unique(images, scores, n)
    nrows = math.ceil(len(chosen) / ncols) if chosen else 1
    fig = _new_figure((TILE_INCHES * ncols, (TILE_INCHES + 0.25) * nrows))
    _image_panels(fig, images[chosen], nrows, ncols, [f"{scores[i]:.3f}" for i in chosen])
    _set_title(fig, title)
    return fig


def tile_grid(images: np.ndarray, grid_len: int) -> np.ndarray:
    """Tile decoded grid images into one picture whose x axis is z1 and whose y axis is z2.

    ``images[g]`` is the decoding of grid point ``g`` of the row-major grid with z1 varying
    slowest (``meshgrid(a, a, indexing="ij")``). In the picture z1 grows to the right and z2
    grows *upwards*, so row 0 of the picture (its top) holds the largest z2, matching
    ``imshow``'s default ``origin="upper"`` with an ``extent`` in latent coordinates.
    """
    images = np.asarray(images)
    side = images.shape[-1]
    if images.shape != (grid_len * grid_len, side, side):
        raise ValueError(
            f"images has shape {images.shape}, expected ({grid_len * grid_len}, H, H) "
            f"for grid_len={grid_len}"
        )
    by_z1_z2 = images.reshape(grid_len, grid_len, side, side)
    by_row_col = by_z1_z2.transpose(1, 0, 2, 3)[::-1]  # [z2 from top, z1 from left]
    return by_row_col.transpose(0, 2, 1, 3).reshape(grid_len * side, grid_len * side)


def plot_manifold(
    grid_images: np.ndarray,
    grid_len: int,
    bounds: tuple[float, float],
    title: str | None = None,
) -> Figure:
    """Decoded 2-D latent manifold, in latent coordinates; grid points span ``bounds`` per axis."""
    axis_values = np.linspace(bounds[0], bounds[1], grid_len)
    fig = _new_figure((PANEL_INCHES * 1.5, PANEL_INCHES * 1.5))
    ax = fig.add_subplot()
    _show_manifold(ax, _as_unit(grid_images), axis_values, axis_values)
    _style_axes(ax, title, "$z_1$", "$z_2$")
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
    fig = _new_figure((PANEL_INCHES * ncols, PANEL_INCHES * len(rows)))
    for row, (label, (chosen, run)) in enumerate(rows.items()):
        z1_values, z2_values = _grid_axes(np.asarray(run.snapshots.grid, dtype=np.float64))
        latents, iterations = _check_latents(run.latents, run.iterations)
        for column, index in enumerate(chosen):
            ax = fig.add_subplot(len(rows), ncols, row * ncols + column + 1)
            iteration = int(run.snapshots.iterations[index])
            image = _as_unit(np.asarray(run.snapshots.images)[index])
            _show_manifold(ax, image, z1_values, z2_values)
            _overlay_queries(ax, latents, iterations, iteration)
            _style_axes(ax, f"{label}, iteration {iteration}", "$z_1$", "$z_2$")
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


def plot_weight_distribution(scores: np.ndarray, k_values: list[float], bins: int = 40) -> Figure:
    """Score histograms of the training set, unweighted and rank-weighted for each ``k``.

    Shows how strongly each ``k`` tilts retraining towards high scores; the legend gives the
    share of the total weight that falls on the top 10 % of points (10 % when unweighted).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or not len(scores):
        raise ValueError(f"scores must be a non-empty 1-D array, got shape {scores.shape}")
    edges = np.histogram_bin_edges(scores, bins=bins)
    fig = _new_figure((PANEL_INCHES * 1.5, PANEL_INCHES))
    ax = fig.add_subplot()
    uniform = np.ones_like(scores)
    ax.hist(
        scores,
        bins=edges,
        density=True,
        color="0.8",
        label=f"unweighted (top 10%: {_top_mass(scores, uniform):.1%})",
    )
    for colour, k in zip(_colours(), k_values, strict=False):
        weights = rank_weights(scores, k)
        label = f"{_format_k(k)} (top 10%: {_top_mass(scores, weights):.1%})"
        ax.hist(
            scores,
            bins=edges,
            weights=weights,
            density=True,
            histtype="step",
            linewidth=1.5,
            color=colour,
            label=label,
        )
    _style_axes(ax, "training-set weights", "score", "density")
    ax.legend(fontsize="small")
    return fig


def plot_training_log(log: pd.DataFrame) -> Figure:
    """Train and validation loss against step, plus the other loss terms in a second panel
    (a logged learning rate is not a loss term and is left out).

    Validation rows are logged once per epoch, so they are drawn with markers to tell them from
    the dense training curve. A panel switches to a log scale when all its values are
    positive, because VAE losses fall by orders of magnitude in the first epochs.
    """
    missing = [column for column in ("step", "split", "loss") if column not in log.columns]
    if missing:
        raise ValueError(f"training log lacks column(s) {', '.join(missing)}")
    terms = [
        column
        for column in log.columns
        if column not in ("step", "epoch", "split", "loss", "lr")
        and pd.api.types.is_numeric_dtype(log[column])
        and log[column].notna().any()
    ]
    ncols = 2 if terms else 1
    fig = _new_figure((PANEL_INCHES * 1.3 * ncols, PANEL_INCHES))
    ax = fig.add_subplot(1, ncols, 1)
    _draw_log_columns(ax, log, ["loss"])
    _style_axes(ax, "loss", "step", "loss")
    if terms:
        ax = fig.add_subplot(1, ncols, 2)
        _draw_log_columns(ax, log, terms)
        _style_axes(ax, "loss terms", "step", "value")
    return fig


def plot_image_grid(images: np.ndarray, nrows: int, ncols: int, title: str | None = None) -> Figure:
    """The first ``nrows × ncols`` images (fewer if fewer are given), e.g. prior samples."""
    images = _check_images(images, "images")[: nrows * ncols]
    fig = _new_figure((TILE_INCHES * ncols, TILE_INCHES * nrows))
    _image_panels(fig, images, nrows, ncols)
    _set_title(fig, title)
    return fig


def plot_reconstructions(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    samples: np.ndarray | None = None,
    n: int = 10,
) -> Figure:
    """The first ``n`` originals above their reconstructions, then rows of prior ``samples``."""
    originals = _check_images(originals, "originals")
    reconstructions = _check_images(reconstructions, "reconstructions")
    if originals.shape != reconstructions.shape:
        raise ValueError(
            f"originals {originals.shape} and reconstructions {reconstructions.shape} differ"
        )
    n = min(n, len(originals))
    rows = [originals[:n], reconstructions[:n]]
    labels = ["original", "reconstruction"]
    if samples is not None:
        samples = _check_images(samples, "samples")
        for start in range(0, len(samples) - n + 1, n):
            rows.append(samples[start : start + n])
            labels.append("prior sample")
    return plot_image_rows(rows, labels)


def plot_image_rows(rows: list[np.ndarray], labels: list[str], title: str | None = None) -> Figure:
    """Rows of equally many images, each row labelled on its left (e.g. samples of one fixed
    set of latent points at several moments of a GAN's training)."""
    if len(rows) != len(labels) or not rows:
        raise ValueError(f"need one label per row, got {len(rows)} rows and {len(labels)} labels")
    n = len(rows[0])
    fig = _new_figure((TILE_INCHES * n, TILE_INCHES * len(rows) + 0.3))
    _image_panels(fig, np.concatenate([_check_images(row, "rows") for row in rows]), len(rows), n)
    for row, label in enumerate(labels):
        fig.axes[row * n].set_ylabel(label, fontsize="small")
    _set_title(fig, title)
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
        _check_images(originals, "originals"),
        _check_images(reconstructions, "reconstructions"),
    )
    n = min(len(originals), len(reconstructions))
    fig = _new_figure((max(TILE_INCHES * n, PANEL_INCHES * 1.5), PANEL_INCHES * 1.5 + 2.0))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 3.0])
    _image_panels(top, np.concatenate([originals[:n], reconstructions[:n]]), 2, n)
    top.axes[0].set_ylabel("original", fontsize="small")
    top.axes[n].set_ylabel("recon.", fontsize="small")
    axis_values = np.linspace(-bounds, bounds, grid_len)
    ax = bottom.add_subplot()
    _show_manifold(ax, _as_unit(manifold_images), axis_values, axis_values)
    _style_axes(ax, "decoded manifold", "$z_1$", "$z_2$")
    return fig


def plot_side_by_side(
    left: tuple[np.ndarray, list[str]],
    right: tuple[np.ndarray, list[str]],
    headings: tuple[str, str],
    title: str | None = None,
    ncols: int = 3,
) -> Figure:
    """Two titled grids of images side by side (e.g. training faces beside the best queries)."""
    nrows = max(math.ceil(len(images) / ncols) for images, _ in (left, right)) or 1
    fig = _new_figure((2 * TILE_INCHES * ncols + 0.5, (TILE_INCHES + 0.3) * nrows + 0.5))
    panels = zip(fig.subfigures(1, 2), (left, right), headings, strict=True)
    for panel, (images, titles), heading in panels:
        _image_panels(panel, _check_images(images, heading), nrows, ncols, titles)
        panel.suptitle(heading, fontsize="medium")
    _set_title(fig, title)
    return fig


DIAGNOSTIC_PANELS = (
    ("surrogate_fit_seconds", "surrogate fit", "seconds"),
    ("acquisition_seconds", "acquisition optimisation", "seconds"),
    ("propose_seconds", "whole proposal", "seconds"),
    ("predictive_log_likelihood", "predictive log likelihood of proposals", "mean log density"),
    ("codes_used", "codebook usage in retraining", "codes per batch"),
)


def plot_diagnostics(runs: dict[str, pd.DataFrame], title: str | None = None) -> Figure:
    """Per-round optimiser diagnostics of one experiment, one line per seed, against queries.

    Panels whose column no run has (e.g. surrogate timings of the grid optimiser) are left out.
    """
    panels = [
        panel
        for panel in DIAGNOSTIC_PANELS
        if any(panel[0] in frame and frame[panel[0]].notna().any() for frame in runs.values())
    ]
    fig = _new_figure((PANEL_INCHES * max(len(panels), 1), PANEL_INCHES * 0.8))
    for index, (column, name, unit) in enumerate(panels, 1):
        ax = fig.add_subplot(1, len(panels), index)
        for (label, frame), colour in zip(runs.items(), _colours(), strict=False):
            if column in frame:
                ax.plot(frame["queries"], frame[column], marker=".", color=colour, label=label)
        _style_axes(ax, name, "queries", unit)
        if index == 1:
            ax.legend(fontsize="small")
    _set_title(fig, title)
    return fig


def _new_figure(size: tuple[float, float]) -> Figure:
    """A pyplot-free figure: no global state, no display needed, laid out without overlaps."""
    return Figure(figsize=size, layout="constrained")


def _colours() -> list[tuple[float, float, float]]:
    """The palette repeated enough for any number of settings, in a fixed order."""
    return list(PALETTE) * 10


def _style_axes(ax: Axes, title: str | None, xlabel: str, ylabel: str) -> None:
    if title:
        ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3, linewidth=0.5)


def _set_title(fig: Figure, title: str | None) -> None:
    if title:
        fig.suptitle(title)


def _draw_seed_band(
    ax: Axes, label: str, seed_scores: list[np.ndarray], k: int, colour: tuple
) -> None:
    """Mean line and ±1 sample-std band of one setting's top-k curves over its seeds."""
    if not seed_scores:
        raise ValueError(f"setting {label!r} has no seeds")
    length = min(len(scores) for scores in seed_scores)
    stacked = np.stack([top_k_curve(scores, k)[:length] for scores in seed_scores])
    queries = np.arange(1, length + 1)
    mean = stacked.mean(axis=0)
    note = f"n={len(seed_scores)}"
    if any(len(scores) > length for scores in seed_scores):
        note += f", first {length} queries"
    ax.plot(queries, mean, color=colour, label=f"{label} ({note})")
    if len(seed_scores) > 1:
        std = stacked.std(axis=0, ddof=1)
        ax.fill_between(queries, mean - std, mean + std, color=colour, alpha=0.2, linewidth=0)


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


def _image_panels(
    fig: Figure | SubFigure,
    images: np.ndarray,
    nrows: int,
    ncols: int,
    titles: list[str] | None = None,
) -> None:
    """One axes per image, so a figure's axes count equals the images it shows.

    Grey images (N, H, W) are drawn dark on light, as digits are; colour images (N, 3, H, W)
    as they are.
    """
    for index, image in enumerate(_as_unit(images)):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        if image.ndim == 3:
            ax.imshow(np.clip(image.transpose(1, 2, 0), 0.0, 1.0))
        else:
            ax.imshow(image, cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[index], fontsize="small")


def _check_images(images: np.ndarray, name: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 and not (images.ndim == 4 and images.shape[1] == 3):
        raise ValueError(f"{name} must have shape (N, H, W) or (N, 3, H, W), got {images.shape}")
    return images


def _as_unit(images: np.ndarray) -> np.ndarray:
    """Pixel intensities in [0, 1]; snapshots are stored as ``uint8`` ×255 to save space."""
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.integer):
        return images.astype(np.float32) / 255.0
    return images


def _grid_axes(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis coordinates of a regular grid, checking the z1-slowest row-major order.

    A grid in the other order would still tile without error but show a transposed
    manifold, so the order is verified rather than assumed.
    """
    grid_len = math.isqrt(len(grid))
    if grid.ndim != 2 or grid.shape[1] != 2 or grid_len * grid_len != len(grid):
        raise ValueError(f"grid must have shape (L*L, 2), got {grid.shape}")
    cube = grid.reshape(grid_len, grid_len, 2)
    z1_values, z2_values = cube[:, 0, 0], cube[0, :, 1]
    regular = np.allclose(cube[:, :, 0], z1_values[:, None]) and np.allclose(
        cube[:, :, 1], z2_values[None, :]
    )
    increasing = np.all(np.diff(z1_values) > 0) and np.all(np.diff(z2_values) > 0)
    if not (regular and increasing):
        raise ValueError(
            "grid must be meshgrid(a, b, indexing='ij') flattened row-major, a and b increasing"
        )
    return z1_values, z2_values


def _show_manifold(
    ax: Axes, grid_images: np.ndarray, z1_values: np.ndarray, z2_values: np.ndarray
) -> None:
    """Draw tiled grid decodings so that each tile is centred on its latent grid point."""
    if len(z1_values) != len(z2_values):
        raise ValueError("the manifold grid must be square")
    picture = tile_grid(grid_images, len(z1_values))
    extent = (*_padded(z1_values), *_padded(z2_values))
    ax.imshow(picture, cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, extent=extent, origin="upper")


def _padded(values: np.ndarray) -> tuple[float, float]:
    """Outer edges of tiles centred on ``values``: half a grid step beyond the end points."""
    half = (values[1] - values[0]) / 2 if len(values) > 1 else 0.5
    return float(values[0] - half), float(values[-1] + half)


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


def _format_k(k: float) -> str:
    return "k=∞ (uniform)" if math.isinf(k) else f"k={k:g}"


def _top_mass(scores: np.ndarray, weights: np.ndarray) -> float:
    """Share of the total weight on the best 10 % of points by score (at least one point)."""
    top = max(1, math.ceil(TOP_FRACTION * len(scores)))
    order = np.argsort(-scores, kind="stable")
    return float(weights[order[:top]].sum() / weights.sum())


def _draw_log_columns(ax: Axes, log: pd.DataFrame, columns: list[str]) -> None:
    """Each column as a train line and a val line-with-markers, sharing the column's colour."""
    values = []
    for colour, column in zip(_colours(), columns, strict=False):
        for split, style in (("train", {"linewidth": 1.0}), ("val", {"marker": "o", "ms": 3})):
            rows = log[(log["split"] == split) & log[column].notna()]
            if rows.empty:
                continue
            ax.plot(rows["step"], rows[column], color=colour, label=f"{column} ({split})", **style)
            values.append(rows[column].to_numpy(dtype=np.float64))
    if values and (np.concatenate(values) > 0).all():
        ax.set_yscale("log")
    if values:
        ax.legend(fontsize="small")


def plot_reliability(
    probabilities: dict[str, np.ndarray],
    labels: np.ndarray,
    n_bins: int = 15,
    title: str | None = None,
) -> Figure:
    """Reliability diagrams of a classifier's softmax outputs (n, classes), one panel per entry.

    Entries such as "before" and "after" temperature scaling show side by side what the
    scaling fixed; the caller names each panel (with its ECE from torchmetrics, so the figure
    and the metrics file quote one number). Bins are equal-width in the top-class confidence,
    as the ECE's are.
    """
    labels = np.asarray(labels)
    if not probabilities:
        raise ValueError("probabilities is empty; expected at least one set of predictions")
    fig = _new_figure((PANEL_INCHES * len(probabilities), PANEL_INCHES))
    for index, (name, values) in enumerate(probabilities.items()):
        confidence, correct = _confidence_and_correct(np.asarray(values), labels, name)
        ax = fig.add_subplot(1, len(probabilities), index + 1)
        _draw_reliability(ax, confidence, correct, n_bins)
        _style_axes(ax, name, "confidence", "accuracy")
    _set_title(fig, title)
    return fig


def _draw_reliability(ax: Axes, confidence: np.ndarray, correct: np.ndarray, n_bins: int) -> None:
    """Each bin's accuracy as a bar, its mean confidence as an outline, and the diagonal.

    Bars below the diagonal (accuracy short of the outline) are over-confident bins.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    filled = count > 0
    mean_confidence = np.bincount(index, confidence, n_bins)[filled] / count[filled]
    accuracy = np.bincount(index, correct.astype(np.float64), n_bins)[filled] / count[filled]
    left, width = edges[:-1][filled], 1.0 / n_bins
    ax.bar(
        left, accuracy, width, align="edge", color=PALETTE[0], edgecolor="white", label="accuracy"
    )
    ax.bar(
        left,
        mean_confidence,
        width,
        align="edge",
        fill=False,
        edgecolor=PALETTE[3],
        label="mean confidence",
    )
    ax.plot([0, 1], [0, 1], color="0.3", linestyle="--", linewidth=1, label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.legend(fontsize="small", loc="upper left")


def _confidence_and_correct(
    probabilities: np.ndarray, labels: np.ndarray, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Top-class probability and whether the top class is the label."""
    if probabilities.ndim != 2 or labels.shape != (len(probabilities),) or not len(labels):
        raise ValueError(
            f"{name}: need probabilities (n, classes) and labels (n,), got "
            f"{probabilities.shape} and {labels.shape}"
        )
    return probabilities.max(axis=1), probabilities.argmax(axis=1) == labels


def plot_score_histograms(
    groups: dict[str, np.ndarray], threshold: float, threshold_label: str, title: str | None
) -> Figure:
    """Overlaid density histograms of one score for several groups, with a marked threshold."""
    fig = _new_figure((PANEL_INCHES * 1.6, PANEL_INCHES))
    ax = fig.add_subplot()
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v in groups.values()])
    finite = values[np.isfinite(values)]
    bins = np.linspace(finite.min(), finite.max(), 40) if len(finite) else 10
    for (label, scores), colour in zip(groups.items(), _colours(), strict=False):
        scores = np.asarray(scores, dtype=np.float64)
        scores = scores[np.isfinite(scores)]
        ax.hist(
            scores,
            bins=bins,
            density=True,
            alpha=0.45,
            color=colour,
            label=f"{label} ({len(scores)})",
        )
    ax.axvline(threshold, color="black", linestyle="--", label=threshold_label)
    ax.legend(fontsize="small")
    _style_axes(ax, title, "discriminator logit", "density")
    return fig
