"""What every figure shares: saving, sizes, colours, axes style, image tiles.

Every plotting function of :mod:`lso.figures` is pure: it takes arrays or DataFrames and
returns a :class:`matplotlib.figure.Figure` built without pyplot, so no global figure state
leaks between calls and nothing depends on a display. Only :func:`save_figure` touches the
disk. Figure code never imports torch or a model: a figure job reads result files, and editing
a figure reruns figure jobs only.

Conventions: images are pixel intensities in [0, 1] (``uint8`` arrays are read as x255)
shown with ``gray_r`` when grey, i.e. dark strokes on white as in print; colours come from the
colour-blind-friendly ``tab10`` cycle in a fixed order so a setting keeps its colour across
figures; grid lines are light.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from lso.utils import InputError, atomic_path

PALETTE = tuple(matplotlib.colormaps["tab10"].colors)
IMAGE_CMAP = "gray_r"
DPI = 150
PANEL_INCHES = 4.0
TILE_INCHES = 0.9


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


def new_figure(size: tuple[float, float]) -> Figure:
    """A pyplot-free figure: no global state, no display needed, laid out without overlaps."""
    return Figure(figsize=size, layout="constrained")


def colours() -> list[tuple[float, float, float]]:
    """The palette repeated enough for any number of settings, in a fixed order."""
    return list(PALETTE) * 10


def style_axes(ax: Axes, title: str | None, xlabel: str, ylabel: str) -> None:
    if title:
        ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3, linewidth=0.5)


def set_title(fig: Figure, title: str | None) -> None:
    if title:
        fig.suptitle(title)


def check_images(images: np.ndarray, name: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 and not (images.ndim == 4 and images.shape[1] == 3):
        raise ValueError(f"{name} must have shape (N, H, W) or (N, 3, H, W), got {images.shape}")
    return images


def as_unit(images: np.ndarray) -> np.ndarray:
    """Pixel intensities in [0, 1]; snapshots are stored as ``uint8`` ×255 to save space."""
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.integer):
        return images.astype(np.float32) / 255.0
    return images


def image_panels(
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
    for index, image in enumerate(as_unit(images)):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        if image.ndim == 3:
            ax.imshow(np.clip(image.transpose(1, 2, 0), 0.0, 1.0))
        else:
            ax.imshow(image, cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[index], fontsize="small")


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


def show_manifold(
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


def grid_axes(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
