"""Read finished optimisation runs and reduce them to the numbers the report compares.

Every run folder ``results/opt/<experiment>/seed<N>/`` follows a fixed contract
(``queries.csv``, ``queries.npz``, ``run.json``). The readers here check that contract and fail
with an :class:`~lso.utils.InputError` naming the offending file, so that a stale or
half-written folder is caught when the report is built rather than silently skewing a table.
The summaries are pure functions of arrays and DataFrames, testable without any files.
"""

from __future__ import annotations

import heapq
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lso.runfiles import ARRAY_KEYS, QUERY_COLUMNS, RUN_INFO_KEYS, SNAPSHOT_KEYS
from lso.utils import InputError


@dataclass(frozen=True)
class LatentSnapshots:
    """Decoded latent manifolds saved during a run with a 2-D latent space."""

    grid: np.ndarray
    images: np.ndarray
    iterations: np.ndarray


@dataclass(frozen=True)
class RunArrays:
    """The bulky per-query arrays of a run, kept apart because most summaries do not need them."""

    images: np.ndarray
    latents: np.ndarray
    scores: np.ndarray
    iterations: np.ndarray
    snapshots: LatentSnapshots | None


@dataclass(frozen=True)
class Run:
    """One optimisation run (experiment × seed): its query table and ``run.json`` metadata."""

    experiment: str
    seed: int
    queries: pd.DataFrame = field(repr=False)
    info: dict[str, Any] = field(repr=False)
    run_dir: Path

    def arrays(self) -> RunArrays:
        """Load ``queries.npz`` on demand; it holds every queried image and can be large."""
        return load_run_arrays(self.run_dir)


def load_run(run_dir: str | os.PathLike) -> Run:
    """Read ``queries.csv`` and ``run.json`` of one run folder and check them against each other."""
    run_dir = Path(run_dir)
    info = _read_run_info(run_dir / "run.json")
    queries = _read_queries(run_dir / "queries.csv")
    if len(queries) != info["n_queries"]:
        raise InputError(
            f"{run_dir / 'queries.csv'}: has {len(queries)} rows but run.json says "
            f"n_queries={info['n_queries']}; the folder mixes files from different runs"
        )
    return Run(
        experiment=str(info["experiment"]),
        seed=int(info["seed"]),
        queries=queries,
        info=info,
        run_dir=run_dir,
    )


def load_run_arrays(run_dir: str | os.PathLike) -> RunArrays:
    """Read ``queries.npz`` of one run folder, checking keys and that the shapes agree."""
    path = Path(run_dir) / "queries.npz"
    if not path.is_file():
        raise InputError(f"{path}: file not found; expected the query arrays of a finished run")
    with np.load(path, allow_pickle=False) as npz:
        data = {key: npz[key] for key in npz.files}
    _require_keys(path, data, ARRAY_KEYS)
    n = len(data["scores"])
    images = data["images"]
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or len(images) != n:
        raise InputError(
            f"{path}: 'images' must be uint8 (n, H, W) or (n, C, H, W) with n = {n} queries, "
            f"got {images.dtype} {images.shape}"
        )
    _check_shape(path, "latents", data["latents"], (n, None))
    _check_shape(path, "scores", data["scores"], (n,))
    _check_shape(path, "iterations", data["iterations"], (n,))
    return RunArrays(
        images=images.astype(np.float32) / 255.0,
        latents=data["latents"],
        scores=data["scores"],
        iterations=data["iterations"],
        snapshots=_snapshots_from(path, data),
    )


def top_k_curve(scores: np.ndarray, k: int) -> np.ndarray:
    """Mean of the ``k`` best scores among the first ``i`` queries, for every ``i``.

    This is the quantity the weighted-retraining literature reports (top-1 and top-10), so that
    methods are compared on how quickly they find *several* good points, not one lucky one.
    Entries stay NaN until ``k`` queries exist, since a top-``k`` mean of fewer is not defined.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {scores.shape}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; a running top-k is undefined for them")
    curve = np.full(len(scores), np.nan)
    best: list[float] = []  # min-heap holding the k largest scores seen so far
    total = 0.0
    for i, score in enumerate(scores):
        if len(best) < k:
            heapq.heappush(best, score)
            total += score
        elif score > best[0]:
            total += score - heapq.heapreplace(best, score)
        if len(best) == k:
            curve[i] = total / k
    return curve


def top_k_column(k: int) -> str:
    """Name of the summary column for top-``k``; top-1 is a single score, not a mean."""
    return "final_top1" if k == 1 else f"final_top{k}_mean"


# Written beside a run by the classifier's judgement (lso.condgen.steps.evaluate_run).
EVALUATION_FILE = "evaluation.json"
# What evaluation.json may add to a run's summary row: the digit classifier's validity, or the
# faces judge's view of the best queries; the Fréchet distance for both.
JUDGED_COLUMNS = (
    "validity",
    "frechet_distance",
    "judge_of_best",
    "judge_top_mean",
    "objective_top_mean",
    "above_training_max",
)


def summarise_runs(runs: list[Run], top_k: tuple[int, ...] = (1, 10)) -> pd.DataFrame:
    """One row per experiment × seed with the final top-k scores and the cost of the run.

    Runs the classifier has judged (an ``evaluation.json`` in the run folder) also get their
    validity and Fréchet distance, read from their own folder so they cannot be misassigned.
    """
    columns = [
        "experiment",
        "seed",
        "queries",
        *(top_k_column(k) for k in top_k),
        "wall_seconds",
        "oracle_evaluations",
    ]
    rows = [_summary_row(run, top_k) for run in runs]
    judged = [column for column in JUDGED_COLUMNS if any(column in row for row in rows)]
    summary = pd.DataFrame(rows, columns=columns + judged)
    return summary.sort_values(["experiment", "seed"], kind="stable", ignore_index=True)


def mean_std_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std over seeds of every numeric metric, one row per experiment.

    Experiments keep their order of appearance so the table follows the config. The
    ``topK (mean ± std)`` strings are for pasting into the report; the numeric columns
    (``<metric>_mean``, ``<metric>_std``) are for further processing. The std of a single
    seed is NaN (shown as ``n/a``) rather than a misleading zero.
    """
    if "experiment" not in summary.columns:
        raise ValueError("summary must have an 'experiment' column (see summarise_runs)")
    metrics = [
        column
        for column in summary.columns
        if column not in ("experiment", "seed") and pd.api.types.is_numeric_dtype(summary[column])
    ]
    grouped = summary.groupby("experiment", sort=False)
    table = grouped[metrics].agg(["mean", "std"])
    table.columns = [f"{metric}_{stat}" for metric, stat in table.columns]
    table.insert(0, "n_seeds", grouped.size())
    for metric in metrics:
        if metric.startswith("final_top"):
            label = metric.removeprefix("final_").removesuffix("_mean")
            table[f"{label} (mean ± std)"] = [
                _format_mean_std(mean, std)
                for mean, std in zip(table[f"{metric}_mean"], table[f"{metric}_std"], strict=True)
            ]
    return table.reset_index()


def _summary_row(run: Run, top_k: tuple[int, ...]) -> dict[str, Any]:
    scores = run.queries["score"].to_numpy(dtype=np.float64)
    row: dict[str, Any] = {"experiment": run.experiment, "seed": run.seed, "queries": len(scores)}
    for k in top_k:
        curve = top_k_curve(scores, k)
        row[top_k_column(k)] = curve[-1] if len(curve) else np.nan
    row["wall_seconds"] = float(run.info["wall_seconds"])
    row["oracle_evaluations"] = int(run.info["oracle_evaluations"])
    evaluation = run.run_dir / EVALUATION_FILE
    if evaluation.is_file():
        judged = json.loads(evaluation.read_text())
        row.update({c: float(judged[c]) for c in JUDGED_COLUMNS if c in judged})
    return row


def _format_mean_std(mean: float, std: float) -> str:
    spread = "n/a" if np.isnan(std) else f"{std:.4f}"
    return f"{mean:.4f} ± {spread}"


def _read_run_info(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path}: file not found; expected the metadata of a finished run")
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(info, dict):
        raise InputError(f"{path}: expected a JSON object with keys {', '.join(RUN_INFO_KEYS)}")
    _require_keys(path, info, RUN_INFO_KEYS)
    return info


def _read_queries(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path}: file not found; expected one row per black-box query")
    try:
        queries = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(f"{path}: not a readable CSV file ({err})") from err
    _require_keys(path, queries.columns, QUERY_COLUMNS)
    for column in QUERY_COLUMNS:
        if not pd.api.types.is_numeric_dtype(queries[column]):
            raise InputError(f"{path}: column {column!r} must be numeric")
    if queries["query"].duplicated().any():
        raise InputError(f"{path}: column 'query' must hold unique query numbers")
    return queries.sort_values("query", ignore_index=True)


def _require_keys(path: Path, present: Any, required: tuple[str, ...]) -> None:
    missing = [key for key in required if key not in present]
    if missing:
        raise InputError(
            f"{path}: missing {', '.join(repr(key) for key in missing)}; "
            f"expected {', '.join(required)}"
        )


def _check_shape(path: Path, key: str, array: np.ndarray, expected: tuple[int | None, ...]) -> None:
    """Compare a shape with ``expected``, where ``None`` matches any size."""
    matches = array.ndim == len(expected) and all(
        want is None or got == want for got, want in zip(array.shape, expected, strict=True)
    )
    if not matches:
        shown = ", ".join("any" if want is None else str(want) for want in expected)
        raise InputError(f"{path}: {key!r} has shape {array.shape}, expected ({shown})")


def _snapshots_from(path: Path, data: dict[str, np.ndarray]) -> LatentSnapshots | None:
    """Snapshots exist only for 2-D latents; all three keys come together or not at all."""
    present = [key for key in SNAPSHOT_KEYS if key in data]
    if not present:
        return None
    _require_keys(path, data, SNAPSHOT_KEYS)
    grid, images = data["snapshot_grid"], data["snapshot_images"]
    n_points, n_snapshots = len(grid), len(data["snapshot_iterations"])
    _check_shape(path, "snapshot_grid", grid, (n_points, 2))
    _check_shape(path, "snapshot_images", images, (n_snapshots, n_points, None, None))
    _check_shape(path, "snapshot_iterations", data["snapshot_iterations"], (n_snapshots,))
    return LatentSnapshots(grid=grid, images=images, iterations=data["snapshot_iterations"])
