"""The numbers the report compares: top-k curves of runs and their summary tables.

Pure functions of run files' contents (:mod:`lso.core.runfiles`), testable without files.
"""

from __future__ import annotations

import heapq
import json
from typing import Any

import numpy as np
import pandas as pd

from lso.core.runfiles import EVALUATION_FILE, Run


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


# What evaluation.json may add to a run's summary row: the digit classifier's validity, or the
# faces judge's view of the best queries; the Fréchet distance for both.
JUDGED_COLUMNS = (
    "validity",
    "frechet_distance",
    "kid_x1000",
    "judge_of_best",
    "judge_top_mean",
    "judge_max",
    "training_judge_max",
    "objective_top_mean",
    "above_training_max",
    "queries_spearman_rho",
    "queries_mean_abs_difference",
)


def summarise_runs(runs: list[Run], top_k: tuple[int, ...] = (1, 10)) -> pd.DataFrame:
    """One row per experiment × seed with the final top-k scores and the cost of the run.

    The cost is the wall time (also per query) and the black-box calls beyond the queries
    (``oracle_evaluations``: the grid's hidden scoring, generated samples); the queries
    include the ``recentering_evaluations`` LOL-BO spends, so ``queries`` is every oracle call
    a method's budget paid for. ``budget_spent`` is False for a run that ended short of its
    budget (the optimiser found no new valid point, even after drawing more candidates): its
    top-k scores then mean less, and the mean ± std table counts such runs. Runs a judge has
    evaluated (an ``evaluation.json`` in the run folder) also get its columns (validity, judge
    scores, distances), read from their own folder so they cannot be misassigned.
    """
    columns = [
        "experiment",
        "seed",
        "queries",
        "budget",
        "budget_spent",
        *(top_k_column(k) for k in top_k),
        "wall_seconds",
        "seconds_per_query",
        "oracle_evaluations",
        "recentering_evaluations",
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
        if column not in ("experiment", "seed", "budget_spent")
        and pd.api.types.is_numeric_dtype(summary[column])
    ]
    grouped = summary.groupby("experiment", sort=False)
    table = grouped[metrics].agg(["mean", "std"])
    table.columns = [f"{metric}_{stat}" for metric, stat in table.columns]
    table.insert(0, "n_seeds", grouped.size())
    if "budget_spent" in summary.columns:
        table.insert(
            1,
            "runs_short_of_budget",
            grouped["budget_spent"].apply(lambda s: int((~s.astype(bool)).sum())),
        )
    for metric in metrics:
        if metric.startswith("final_top"):
            label = metric.removeprefix("final_").removesuffix("_mean")
            table[f"{label} (mean ± std)"] = [
                _format_mean_std(mean, std)
                for mean, std in zip(table[f"{metric}_mean"], table[f"{metric}_std"], strict=True)
            ]
    return table.reset_index()


# What a comparison of methods shows besides the top-k scores: the oracle calls LOL-BO spent
# on recentering (part of every method's equal budget), the wall time per query, and the
# judges' view of the queries where there is one; with the decimals each deserves.
COMPARED_COLUMNS = {
    "recentering_evaluations": 1,
    "seconds_per_query": 2,
    "validity": 2,
    "frechet_distance": 1,
    "judge_top_mean": 4,
}


def comparison_table(
    summary: pd.DataFrame, experiments: list[str], labels: dict[str, str]
) -> pd.DataFrame:
    """One row per method of a comparison, in the comparison's order: its label, seeds and
    "mean ± std" over seeds of the final top-k scores and of :data:`COMPARED_COLUMNS` (those
    some run has)."""
    table = mean_std_table(summary).set_index("experiment")
    metrics = {c: 4 for c in summary.columns if c.startswith("final_top")}
    metrics.update({c: d for c, d in COMPARED_COLUMNS.items() if c in summary.columns})
    rows = []
    for experiment in experiments:
        stats = table.loc[experiment]
        row = {
            "method": labels.get(experiment, experiment),
            "experiment": experiment,
            "seeds": int(stats["n_seeds"]),
        }
        for metric, digits in metrics.items():
            row[metric] = _format_mean_std(stats[f"{metric}_mean"], stats[f"{metric}_std"], digits)
        rows.append(row)
    return pd.DataFrame(rows)


def _summary_row(run: Run, top_k: tuple[int, ...]) -> dict[str, Any]:
    scores = run.queries["score"].to_numpy(dtype=np.float64)
    row: dict[str, Any] = {
        "experiment": run.experiment,
        "seed": run.seed,
        "queries": len(scores),
        "budget": int(run.info["settings"]["budget"]),
        "budget_spent": bool(run.info["budget_spent"]),
    }
    for k in top_k:
        curve = top_k_curve(scores, k)
        row[top_k_column(k)] = curve[-1] if len(curve) else np.nan
    row["wall_seconds"] = float(run.info["wall_seconds"])
    row["seconds_per_query"] = row["wall_seconds"] / len(scores) if len(scores) else np.nan
    row["oracle_evaluations"] = int(run.info["oracle_evaluations"])
    row["recentering_evaluations"] = int(run.info["recentering_evaluations"])
    evaluation = run.run_dir / EVALUATION_FILE
    if evaluation.is_file():
        judged = json.loads(evaluation.read_text())
        row.update({c: float(judged[c]) for c in JUDGED_COLUMNS if c in judged})
    return row


def _format_mean_std(mean: float, std: float, digits: int = 4) -> str:
    spread = "n/a" if np.isnan(std) else f"{std:.{digits}f}"
    return f"{mean:.{digits}f} ± {spread}"
