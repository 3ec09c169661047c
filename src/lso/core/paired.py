"""Paired comparisons of experiments run on the same seeds: does one beat the other?

Two experiments that share a pretrained model and their seeds differ only in the method, so
their seed-by-seed differences are the evidence, and a mean ± std of each experiment (whose
spread mixes the seeds' luck into both) is not. For every metric this reports each seed's
difference, their mean and standard deviation, how many seeds the experiment wins, and the
paired t-test's two-sided p-value (with 3 seeds only a large, consistent difference reaches
p < 0.05; the sign test's smallest p with 3 seeds is 0.25).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ttest_rel

JUDGE_METRICS = (
    "judge_top_mean",
    "judge_of_best",
    "kid_x1000",
    "validity",
)


def paired_comparison(
    summary: pd.DataFrame,
    baseline: str,
    experiments: list[str],
    metrics: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """One row per (experiment, metric): the experiment minus ``baseline`` on shared seeds.

    By default the metrics are the summary's top-k columns and the judges' metrics.
    """
    if metrics is None:
        top_k = tuple(c for c in summary.columns if c.startswith("final_top"))
        metrics = top_k + JUDGE_METRICS
    rows = []
    base = summary[summary["experiment"] == baseline].set_index("seed")
    for experiment in experiments:
        other = summary[summary["experiment"] == experiment].set_index("seed")
        seeds = sorted(set(base.index) & set(other.index))
        for metric in metrics:
            if metric not in summary.columns or summary[metric].isna().all():
                continue
            differences = (other.loc[seeds, metric] - base.loc[seeds, metric]).to_numpy(float)
            rows.append(_row(experiment, baseline, metric, seeds, differences))
    return pd.DataFrame(rows)


def _row(experiment: str, baseline: str, metric: str, seeds: list[int], differences: np.ndarray):
    p_value = float("nan")
    if len(differences) >= 2 and np.std(differences) > 0:
        p_value = float(ttest_rel(differences, np.zeros_like(differences)).pvalue)
    return {
        "experiment": experiment,
        "baseline": baseline,
        "metric": metric,
        "seeds": len(seeds),
        "mean_difference": float(differences.mean()) if len(differences) else float("nan"),
        "std_difference": float(differences.std(ddof=1)) if len(differences) > 1 else float("nan"),
        "wins": int((differences > 0).sum()),
        "p_value": p_value,
        "differences": " ".join(
            f"{seed}:{d:+.3f}" for seed, d in zip(seeds, differences, strict=True)
        ),
    }
