"""Figures of conditional generation: latent spaces, objective landscapes, a BO run, top images.

Like every figure (:mod:`lso.figures.common`, whose helpers and conventions these reuse),
every function is pure: arrays in, a pyplot-free :class:`~matplotlib.figure.Figure` out,
saved with :func:`lso.figures.common.save_figure`. Maps over the latent square take
``values[i, j]`` at ``(axis[i], axis[j])``, the layout :func:`lso.condgen.objective.landscape` and
:func:`lso.condgen.bo.gp_landscape` return, and show t1 to the right and t2 upwards.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from lso.figures.common import (
    PALETTE,
    PANEL_INCHES,
    TILE_INCHES,
    check_images,
    image_panels,
    new_figure,
    set_title,
    style_axes,
)

N_DIGITS = 10
LATENT_LABELS = ("$t_1$", "$t_2$")
LOG_EI_SPAN = 10.0


def plot_latent_spaces(
    latents: dict[str, np.ndarray], labels: np.ndarray, bounds: float = 4.0
) -> Figure:
    """Encoder means (n, 2) of labelled digits, one panel per model, coloured by digit.

    Side by side this shows how a predictor reorganises the latent space: classes separate
    with a classifier and order by value with a regressor. The axes are the search box,
    as in the blog, so points beyond it are cut off.
    """
    labels = np.asarray(labels)
    fig = new_figure((PANEL_INCHES * len(latents) + 1.0, PANEL_INCHES))
    axes = []
    for index, (name, points) in enumerate(latents.items()):
        points = _check_points(points, labels, name)
        ax = fig.add_subplot(1, len(latents), index + 1)
        scatter = ax.scatter(
            points[:, 0],
            points[:, 1],
            c=labels,
            cmap="tab10",
            vmin=-0.5,
            vmax=N_DIGITS - 0.5,
            s=2,
            linewidths=0,
        )
        _square(ax, bounds)
        style_axes(ax, name, *LATENT_LABELS)
        axes.append(ax)
    fig.colorbar(scatter, ax=axes, ticks=range(N_DIGITS), label="digit")
    return fig


def plot_objective_landscapes(
    axis: np.ndarray, landscapes: dict[str, dict[int, np.ndarray]], title: str | None = None
) -> Figure:
    """Objective maps, a row per objective (e.g. predictor, decode + classify), a column per target.

    All panels share one logarithmic colour scale (the objective is positive), so the rows
    can be compared: the decode-then-classify objective is the fuzzier one in the blog.
    """
    axis = np.asarray(axis, dtype=np.float64)
    targets = _common_targets(landscapes)
    norm = _shared_log_norm([np.asarray(v) for maps in landscapes.values() for v in maps.values()])
    size = PANEL_INCHES * 0.8
    fig = new_figure((size * len(targets) + 1.0, size * len(landscapes)))
    axes = []
    for row, (name, maps) in enumerate(landscapes.items()):
        for column, target in enumerate(targets):
            ax = fig.add_subplot(len(landscapes), len(targets), row * len(targets) + column + 1)
            image = _show_map(ax, axis, np.asarray(maps[target]), norm, "viridis")
            ax.set_title(f"target {target}", fontsize="small")
            ax.set_xticks([])
            ax.set_yticks([])
            axes.append(ax)
        axes[row * len(targets)].set_ylabel(name)
    fig.colorbar(image, ax=axes, label="objective f(t)")
    set_title(fig, title)
    return fig


def plot_bo_run(
    axis: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    log_ei: np.ndarray,
    evaluated: np.ndarray,
    values: np.ndarray,
    title: str | None = None,
) -> Figure:
    """GP posterior mean and standard deviation of f, and log EI, with the evaluated points.

    The blog's ``plot_acquisition()`` view: where the model believes the minimum is, where
    it is unsure, and where it would look next. The best evaluation is starred. Log EI
    falls to thousands of nats below its peak near evaluated points, so its colour scale
    spans only the top ``LOG_EI_SPAN`` nats, below which everything shares the lowest colour.
    """
    axis = np.asarray(axis, dtype=np.float64)
    evaluated, values = np.asarray(evaluated), np.asarray(values)
    panels = (("posterior mean of f", mean), ("posterior std of f", std), ("log EI", log_ei))
    fig = new_figure((PANEL_INCHES * 1.1 * len(panels), PANEL_INCHES))
    for index, (name, surface) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), index + 1)
        surface = np.asarray(surface)
        low, high = float(np.min(surface)), float(np.max(surface))
        if name == "log EI":
            low = max(low, high - LOG_EI_SPAN)
        image = _show_map(ax, axis, surface, Normalize(low, high), "viridis")
        fig.colorbar(image, ax=ax, shrink=0.8, extend="min" if name == "log EI" else "neither")
        _overlay_evaluations(ax, evaluated, values)
        style_axes(ax, name, *LATENT_LABELS)
        ax.grid(False)
    fig.axes[0].legend(fontsize="small", loc="upper right")
    set_title(fig, title)
    return fig


def plot_top_images(
    rows: dict[int, tuple[np.ndarray, np.ndarray]], title: str | None = None
) -> Figure:
    """Per target, its best decoded images (k, 28, 28) titled with their objective values.

    The blog's check that low objective values really are the asked-for digit; a row per
    target, best first.
    """
    if not rows:
        raise ValueError("rows is empty; expected at least one target")
    ncols = max(len(check_images(images, f"target {t}")) for t, (images, _) in rows.items())
    fig = new_figure((TILE_INCHES * ncols + 0.6, (TILE_INCHES + 0.3) * len(rows)))
    subfigures = np.atleast_1d(fig.subfigures(len(rows), 1))
    for subfig, (target, (images, values)) in zip(subfigures, rows.items(), strict=True):
        titles = [f"{float(v):.2f}" for v in np.asarray(values)]
        if len(titles) != len(images):
            raise ValueError(f"target {target}: {len(images)} images but {len(titles)} values")
        image_panels(subfig, np.asarray(images), 1, ncols, titles)
        subfig.supylabel(f"target {target}", fontsize="small")
    set_title(fig, title)
    return fig


def _show_map(
    ax: Axes, axis: np.ndarray, values: np.ndarray, norm: Normalize, cmap: str
) -> AxesImage:
    """Draw ``values[i, j]`` at ``(axis[i], axis[j])`` with t1 to the right and t2 upwards."""
    if values.shape != (len(axis), len(axis)):
        raise ValueError(f"map has shape {values.shape}, expected {(len(axis), len(axis))}")
    half = (axis[1] - axis[0]) / 2
    extent = (axis[0] - half, axis[-1] + half, axis[0] - half, axis[-1] + half)
    return ax.imshow(values.T, origin="lower", extent=extent, norm=norm, cmap=cmap)


def _overlay_evaluations(ax: Axes, evaluated: np.ndarray, values: np.ndarray) -> None:
    best = int(np.argmin(values))
    ax.scatter(
        evaluated[:, 0],
        evaluated[:, 1],
        s=10,
        color=PALETTE[3],
        edgecolors="white",
        linewidths=0.4,
        label="evaluations",
    )
    ax.scatter(
        evaluated[best, 0],
        evaluated[best, 1],
        s=120,
        marker="*",
        color=PALETTE[1],
        edgecolors="black",
        linewidths=0.6,
        label="best",
    )


def _common_targets(landscapes: dict[str, dict[int, np.ndarray]]) -> list[int]:
    """The targets, which every row must have, so that columns line up."""
    target_sets = [sorted(maps) for maps in landscapes.values()]
    if not target_sets or not target_sets[0] or any(s != target_sets[0] for s in target_sets):
        raise ValueError(f"every objective needs maps for the same targets, got {target_sets}")
    return target_sets[0]


def _shared_log_norm(maps: list[np.ndarray]) -> LogNorm:
    """One log colour scale over all maps; the objective is positive by construction."""
    low = min(float(np.min(values)) for values in maps)
    high = max(float(np.max(values)) for values in maps)
    if low <= 0:
        raise ValueError(f"objective maps must be positive for a log scale, found {low}")
    return LogNorm(low, high)


def _square(ax: Axes, bounds: float) -> None:
    ax.set_xlim(-bounds, bounds)
    ax.set_ylim(-bounds, bounds)
    ax.set_aspect("equal")


def _check_points(points: np.ndarray, labels: np.ndarray, name: str) -> np.ndarray:
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError(
            f"{name}: need latents (n, 2) with one label each, got {points.shape} and "
            f"{labels.shape}"
        )
    return points
