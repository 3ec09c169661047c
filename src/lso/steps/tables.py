"""The table step: one row per run and the mean ± std per experiment (no torch)."""

from __future__ import annotations

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
    table = summarise_runs([load_run(d) for d in run_dirs], top_k=tuple(top_k))
    with atomic_path(summary) as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(mean_std) as tmp:
        mean_std_table(table).to_csv(tmp, index=False)


def compare(
    run_dirs: dict[str, list[PathLike]],
    labels: dict[str, str],
    top_k: list[int],
    output: PathLike,
) -> None:
    """Write one comparison's table: a row per experiment (method), mean ± std over seeds."""
    runs = [load_run(d) for dirs in run_dirs.values() for d in dirs]
    table = comparison_table(summarise_runs(runs, top_k=tuple(top_k)), list(run_dirs), labels)
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)
