"""The contract of a run folder ``results/opt/<experiment>/seed<N>/``: its writer and readers.

The loop writes a run with :func:`write_run`; tables, figures, evaluations and tests read it
with :func:`load_run` and :func:`load_run_arrays`. All of them take the file names, columns,
``run.json`` keys and array names from here, so a column added to one side cannot be missed
by the other, and a stale or half-written folder fails here, naming the file, rather than
silently skewing a table.

- ``queries.csv``: one row per black-box query, in query order (:data:`QUERY_COLUMNS`);
- ``queries.npz``: the queried images (uint8) and latent points, and for 2-D runs the latent
  snapshots (:data:`ARRAY_KEYS`, :data:`SNAPSHOT_KEYS`);
- ``diagnostics.csv``: one row per optimiser call (timings, surrogate quality);
- ``run.json``: what the run was and what it cost (:data:`RUN_INFO_KEYS`);
- ``evaluation.json``: written later beside it by the run's judge (classifier or predictor).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lso.utils import InputError, atomic_path

QUERIES_FILE = "queries.csv"
ARRAYS_FILE = "queries.npz"
DIAGNOSTICS_FILE = "diagnostics.csv"
INFO_FILE = "run.json"
EVALUATION_FILE = "evaluation.json"
# queries.csv: one row per black-box query, in query order.
QUERY_COLUMNS = (
    "query",
    "iteration",
    "score",
    "best_so_far",
    "model_version",
    "seconds",
    "log_density",
)
# run.json: what the run was and what it cost.
RUN_INFO_KEYS = (
    "experiment",
    "seed",
    "wall_seconds",
    "n_queries",
    "n_retrainings",
    "oracle_evaluations",
    "recentering_evaluations",
    "budget_spent",
    "device",
    "settings",
)
# queries.npz: the queried images and latent points, and (2-D runs) the latent snapshots.
ARRAY_KEYS = ("images", "latents", "scores", "iterations")
SNAPSHOT_KEYS = ("snapshot_grid", "snapshot_images", "snapshot_iterations")


def write_run(
    out_dir: str | os.PathLike,
    queries: list[dict[str, float]],
    diagnostics: list[dict[str, float]],
    arrays: dict[str, np.ndarray],
    info: dict[str, Any],
) -> None:
    """Write a finished run's files, each atomically (a killed job leaves no partial file).

    ``queries`` are rows with :data:`QUERY_COLUMNS`; ``arrays`` holds :data:`ARRAY_KEYS` (and
    :data:`SNAPSHOT_KEYS` or none of them); ``info`` holds :data:`RUN_INFO_KEYS`.
    """
    out = Path(out_dir)
    _require_keys(out / ARRAYS_FILE, arrays, ARRAY_KEYS)
    _require_keys(out / INFO_FILE, info, RUN_INFO_KEYS)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / QUERIES_FILE) as tmp:
        pd.DataFrame(queries, columns=QUERY_COLUMNS).to_csv(tmp, index=False)
    with atomic_path(out / DIAGNOSTICS_FILE) as tmp:
        pd.DataFrame(diagnostics).to_csv(tmp, index=False)
    with atomic_path(out / ARRAYS_FILE) as tmp:
        np.savez_compressed(tmp, **arrays)
    with atomic_path(out / INFO_FILE) as tmp:
        tmp.write_text(json.dumps(info, indent=2, default=str))


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
    info = _read_run_info(run_dir / INFO_FILE)
    queries = _read_queries(run_dir / QUERIES_FILE)
    if len(queries) != info["n_queries"]:
        raise InputError(
            f"{run_dir / QUERIES_FILE}: has {len(queries)} rows but run.json says "
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
    path = Path(run_dir) / ARRAYS_FILE
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
