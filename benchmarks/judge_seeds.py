"""How much the faces conclusions depend on the judge's own training run.

    python benchmarks/judge_seeds.py RESULTS_ROOT [--seeds 2 3] [--config config.yaml]

The judge is the measuring stick, fixed before the runs; one training run of it is still one
sample. This trains the judge again, exactly as ``config.yaml`` says but for its seed (which
sets its initialisation, batch order and augmentation draws), on the same half of the faces,
and re-judges the finished faces runs under ``RESULTS_ROOT`` (a folder where the default
pipeline ran): for each judge, the paired difference of every faces experiment's "judge of the
10 best" (the judge's mean over each run's 10 best queries by the black box) against the
comparison's baseline, seed by seed. It does not touch the pipeline's outputs; it writes the
extra judges under ``RESULTS_ROOT/benchmarks/judge_seeds``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from lso.config.parse import parse_config
from lso.config.types import ComparisonSettings
from lso.core.paired import paired_comparison
from lso.core.runfiles import load_run_arrays
from lso.steps.predictors import train_predictor
from lso.tasks.faces.dataset import generative_split, load_face_dataset
from lso.tasks.faces.objective import SmileObjective


def judged_run(judge: SmileObjective, run_dir: Path, n_best: int) -> dict[str, float]:
    """The judge's mean over the run's ``n_best`` queries by the black box, and its best."""
    arrays = load_run_arrays(run_dir)
    judged = judge(arrays.images)
    best = np.argsort(-arrays.scores, kind="stable")[:n_best]
    return {"judge_top_mean": float(judged[best].mean()), "judge_max": float(judged.max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--comparison", default="faces_trust_region")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with open(args.config) as handle:
        settings = parse_config(yaml.safe_load(handle))
    comparison = settings.comparisons[args.comparison]
    spec = settings.predictor.judge
    dataset = args.root / "data" / "processed" / f"{settings.predictor.dataset}.npz"
    judges = {spec.seed: args.root / "results" / "predictors" / "judge" / "model.pt"}
    for seed in args.seeds:
        folder = args.root / "benchmarks" / "judge_seeds" / f"seed{seed}"
        checkpoint = folder / "model.pt"
        if not checkpoint.is_file():
            train_predictor(
                dataset,
                spec._replace(seed=seed),
                "judge",
                checkpoint=checkpoint,
                train_log=folder / "train_log.csv",
                metrics=folder / "metrics.json",
                calibration=folder / "calibration.npz",
                device_name="cpu",
            )
        judges[seed] = checkpoint
    training = generative_split(load_face_dataset(dataset))["train_images"]
    rows = []
    for judge_seed, checkpoint in judges.items():
        judge = SmileObjective.load(checkpoint, torch.device("cpu"))
        training_max = float(judge(training).max())
        for experiment in comparison.experiments:
            for seed in settings.experiments[experiment].seeds:
                run_dir = args.root / "results" / "opt" / experiment / f"seed{seed}"
                judged = judged_run(judge, run_dir, settings.face_evaluation.n_best)
                rows.append(
                    {
                        "judge_seed": judge_seed,
                        "experiment": experiment,
                        "seed": seed,
                        "training_max": training_max,
                        **judged,
                    }
                )
    print_table(pd.DataFrame(rows), comparison)


def print_table(table: pd.DataFrame, comparison: ComparisonSettings) -> None:
    """Per judge and method: the paired difference against the baseline, and how many runs'
    best query beats the best training face under that judge."""
    print(
        "| judge seed | method | paired Δ judge of the 10 best vs baseline (wins, p) "
        "| runs whose best query beats the best training face |"
    )
    print("|---|---|---|---|")
    for judge_seed, runs in table.groupby("judge_seed"):
        others = [e for e in comparison.experiments if e != comparison.baseline]
        paired = paired_comparison(runs, comparison.baseline, others, ("judge_top_mean",))
        differences = {
            row.experiment: f"{row.mean_difference:+.2f} ({row.wins}/{row.seeds}, "
            f"p = {row.p_value:.2f})"
            for row in paired.itertuples()
        }
        for experiment, own in runs.groupby("experiment", sort=False):
            above = int((own["judge_max"] > own["training_max"]).sum())
            label = comparison.labels.get(experiment, experiment)
            difference = differences.get(experiment, "–")
            print(f"| {judge_seed} | {label} | {difference} | {above} of {len(own)} |")


if __name__ == "__main__":
    main()
