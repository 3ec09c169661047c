"""Table steps (no torch): runs, experiments, paired comparisons, the faces family's tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lso.core.paired import paired_comparison
from lso.core.runfiles import load_run
from lso.core.summary import comparison_table, mean_std_table, summarise_runs
from lso.utils import PathLike, atomic_path


def summarise(
    run_dirs: list[PathLike], top_k: list[int], *, summary: PathLike, mean_std: PathLike
) -> None:
    """Write the per-run summary and the per-experiment mean ± std table.

    Runs judged by the classifier or the faces judge (``evaluation.json``) gain their
    validity or judge scores and the Fréchet distance.
    """
    table = _summary_of(run_dirs, top_k)
    with atomic_path(summary) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(mean_std) as tmp:
        mean_std_table(table).to_csv(tmp, index=False)


def paired(
    run_dirs: list[PathLike],
    top_k: list[int],
    baseline: str,
    experiments: list[str],
    output: PathLike,
) -> None:
    """The comparison's experiments against its baseline, seed by seed (:mod:`lso.core.paired`).

    It summarises just the comparison's runs, so a seed added elsewhere leaves it alone.
    """
    table = paired_comparison(_summary_of(run_dirs, top_k), baseline, experiments)
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)


def faces_tables(
    predictor_agreement: PathLike,
    model_quality: list[PathLike],
    run_dirs: list[PathLike],
    *,
    models: PathLike,
    agreement: PathLike,
) -> None:
    """The faces family's two tables: how well each pretrained model draws faces, and how far
    black box and judge agree on validation faces, on each model's samples and on each
    experiment's queries (mean over its seeds)."""
    qualities = [json.loads(Path(path).read_text()) for path in model_quality]
    with atomic_path(models) as tmp:
        pd.DataFrame(qualities).to_csv(tmp, index=False)
    validation = json.loads(Path(predictor_agreement).read_text())
    rows = [
        {"faces": validation["faces"], **_agreement_columns(validation)},
        *(
            {"faces": f"{q['model']} samples", **_agreement_columns(q, "samples_")}
            for q in qualities
        ),
    ]
    runs = _summary_of(run_dirs, top_k=[])
    if "queries_spearman_rho" in runs.columns:
        judged = runs.dropna(subset=["queries_spearman_rho"])
        for experiment, group in judged.groupby("experiment", sort=False):
            rows.append(
                {
                    "faces": f"{experiment} queries ({len(group)} runs)",
                    "spearman_rho": group["queries_spearman_rho"].mean(),
                    "mean_abs_difference": group["queries_mean_abs_difference"].mean(),
                    "n": int(group["queries"].sum()),
                }
            )
    with atomic_path(agreement) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)


def _agreement_columns(values: dict, prefix: str = "") -> dict:
    return {
        "spearman_rho": values[f"{prefix}spearman_rho"],
        "mean_abs_difference": values[f"{prefix}mean_abs_difference"],
        "black_box_mean": values[f"{prefix}black_box_mean"],
        "judge_mean": values[f"{prefix}judge_mean"],
        "n": values[f"{prefix}n"],
    }


def _summary_of(run_dirs: list[PathLike], top_k: list[int]) -> pd.DataFrame:
    return summarise_runs([load_run(d) for d in run_dirs], top_k=tuple(top_k))


def compare(
    run_dirs: dict[str, list[PathLike]],
    labels: dict[str, str],
    top_k: list[int],
    output: PathLike,
) -> None:
    """Write one comparison's table: a row per experiment (method), mean ± std over seeds."""
    summary = _summary_of([d for dirs in run_dirs.values() for d in dirs], top_k)
    table = comparison_table(summary, list(run_dirs), labels)
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)
