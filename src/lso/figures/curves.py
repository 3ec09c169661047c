"""Line and histogram figures: top-k curves, diagnostics, losses, weights, calibration."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lso.core.summary import top_k_curve
from lso.core.weighting import rank_weights
from lso.figures.common import (
    PALETTE,
    PANEL_INCHES,
    colours,
    new_figure,
    set_title,
    style_axes,
)

TOP_FRACTION = 0.1


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
    fig = new_figure((PANEL_INCHES * 1.3 * n_panels, PANEL_INCHES))
    for index, k in enumerate(top_k):
        ax = fig.add_subplot(1, n_panels, index + 1)
        for colour, (label, seed_scores) in zip(colours(), curves.items(), strict=False):
            _draw_seed_band(ax, label, seed_scores, k, colour)
        style_axes(ax, f"top-{k}", "queries", f"top-{k} mean score")
        ax.legend(fontsize="small")
    if validity is not None:
        ax = fig.add_subplot(1, n_panels, n_panels)
        for colour, (label, fractions) in zip(colours(), validity.items(), strict=False):
            _draw_mean_band(ax, label, fractions, colour)
        ax.set_ylim(-0.02, 1.02)
        style_axes(ax, "validity", "queries", "fraction of queries classified valid")
    set_title(fig, title)
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


def plot_weight_distribution(scores: np.ndarray, k_values: list[float], bins: int = 40) -> Figure:
    """Score histograms of the training set, unweighted and rank-weighted for each ``k``.

    Shows how strongly each ``k`` tilts retraining towards high scores; the legend gives the
    share of the total weight that falls on the top 10 % of points (10 % when unweighted).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or not len(scores):
        raise ValueError(f"scores must be a non-empty 1-D array, got shape {scores.shape}")
    edges = np.histogram_bin_edges(scores, bins=bins)
    fig = new_figure((PANEL_INCHES * 1.5, PANEL_INCHES))
    ax = fig.add_subplot()
    uniform = np.ones_like(scores)
    ax.hist(
        scores,
        bins=edges,
        density=True,
        color="0.8",
        label=f"unweighted (top 10%: {_top_mass(scores, uniform):.1%})",
    )
    for colour, k in zip(colours(), k_values, strict=False):
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
    style_axes(ax, "training-set weights", "score", "density")
    ax.legend(fontsize="small")
    return fig


def _format_k(k: float) -> str:
    return "k=∞ (uniform)" if math.isinf(k) else f"k={k:g}"


def _top_mass(scores: np.ndarray, weights: np.ndarray) -> float:
    """Share of the total weight on the best 10 % of points by score (at least one point)."""
    top = max(1, math.ceil(TOP_FRACTION * len(scores)))
    order = np.argsort(-scores, kind="stable")
    return float(weights[order[:top]].sum() / weights.sum())


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
    fig = new_figure((PANEL_INCHES * 1.3 * ncols, PANEL_INCHES))
    ax = fig.add_subplot(1, ncols, 1)
    _draw_log_columns(ax, log, ["loss"])
    style_axes(ax, "loss", "step", "loss")
    if terms:
        ax = fig.add_subplot(1, ncols, 2)
        _draw_log_columns(ax, log, terms)
        style_axes(ax, "loss terms", "step", "value")
    return fig


def _draw_log_columns(ax: Axes, log: pd.DataFrame, columns: list[str]) -> None:
    """Each column as a train line and a val line-with-markers, sharing the column's colour."""
    values = []
    for colour, column in zip(colours(), columns, strict=False):
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


DIAGNOSTIC_PANELS = (
    ("surrogate_fit_seconds", "surrogate fit", "seconds"),
    ("acquisition_seconds", "acquisition optimisation", "seconds"),
    ("propose_seconds", "whole proposal", "seconds"),
    ("predictive_log_likelihood", "predictive log likelihood of proposals", "mean log density"),
    ("codes_used", "codebook usage in retraining", "codes per batch"),
    ("trust_region_length", "trust-region side (TuRBO)", "fraction of the search box"),
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
    fig = new_figure((PANEL_INCHES * max(len(panels), 1), PANEL_INCHES * 0.8))
    for index, (column, name, unit) in enumerate(panels, 1):
        ax = fig.add_subplot(1, len(panels), index)
        for (label, frame), colour in zip(runs.items(), colours(), strict=False):
            if column in frame:
                ax.plot(frame["queries"], frame[column], marker=".", color=colour, label=label)
        style_axes(ax, name, "queries", unit)
        if index == 1:
            ax.legend(fontsize="small")
    set_title(fig, title)
    return fig


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
    fig = new_figure((PANEL_INCHES * len(probabilities), PANEL_INCHES))
    for index, (name, values) in enumerate(probabilities.items()):
        confidence, correct = _confidence_and_correct(np.asarray(values), labels, name)
        ax = fig.add_subplot(1, len(probabilities), index + 1)
        _draw_reliability(ax, confidence, correct, n_bins)
        style_axes(ax, name, "confidence", "accuracy")
    set_title(fig, title)
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
    fig = new_figure((PANEL_INCHES * 1.6, PANEL_INCHES))
    ax = fig.add_subplot()
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v in groups.values()])
    finite = values[np.isfinite(values)]
    bins = np.linspace(finite.min(), finite.max(), 40) if len(finite) else 10
    for (label, scores), colour in zip(groups.items(), colours(), strict=False):
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
    style_axes(ax, title, "discriminator logit", "density")
    return fig
