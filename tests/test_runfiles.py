"""The run-folder contract (lso.core.runfiles: one writer, the readers) and the summaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lso.core import runfiles
from lso.core.runfiles import Run, load_run, load_run_arrays
from lso.core.summary import comparison_table, mean_std_table, summarise_runs, top_k_curve
from lso.utils import InputError


def write_run(
    run_dir: Path,
    scores: np.ndarray,
    experiment: str = "exp",
    seed: int = 0,
    latent_dim: int = 2,
    snapshots: bool = True,
) -> Path:
    """A small run folder written by the loop's own writer (:func:`runfiles.write_run`)."""
    n = len(scores)
    iterations = np.arange(n) // 5
    queries = [
        {
            "query": i + 1,
            "iteration": int(iterations[i]),
            "score": float(scores[i]),
            "best_so_far": float(np.max(scores[: i + 1])),
            "model_version": int(iterations[i]),
            "seconds": 0.1 * (i + 1),
            "log_density": float("nan"),
        }
        for i in range(n)
    ]
    info = {
        "experiment": experiment,
        "seed": seed,
        "wall_seconds": 12.5,
        "n_queries": n,
        "n_retrainings": int(iterations.max()),
        "oracle_evaluations": n + 100,
        "recentering_evaluations": 0,
        "budget_spent": True,
        "device": "cpu",
        "settings": {"k": 1e-3, "budget": n},
    }
    arrays = {
        "images": np.zeros((n, 28, 28), np.uint8),
        "latents": np.zeros((n, latent_dim)),
        "scores": np.asarray(scores, np.float64),
        "iterations": iterations.astype(np.int64),
    }
    if snapshots:
        a = np.linspace(-1, 1, 3)
        arrays["snapshot_grid"] = np.stack(np.meshgrid(a, a, indexing="ij"), -1).reshape(-1, 2)
        arrays["snapshot_images"] = np.zeros((2, 9, 28, 28), np.uint8)
        arrays["snapshot_iterations"] = np.array([0, 1], np.int64)
    runfiles.write_run(run_dir, queries, [], arrays, info)
    return run_dir


def test_the_writer_refuses_a_run_that_breaks_the_contract(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="run.json.*'budget_spent'"):
        runfiles.write_run(tmp_path, [], [], dict.fromkeys(runfiles.ARRAY_KEYS), {})
    assert not any(tmp_path.iterdir())  # nothing half-written


def brute_force_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    curve = np.full(len(scores), np.nan)
    for i in range(k - 1, len(scores)):
        curve[i] = np.sort(scores[: i + 1])[::-1][:k].mean()
    return curve


@pytest.mark.parametrize("k", [1, 3, 10])
def test_top_k_curve_matches_brute_force(k: int) -> None:
    scores = np.random.default_rng(k).normal(size=200).round(1)  # rounding creates ties
    np.testing.assert_allclose(top_k_curve(scores, k), brute_force_top_k(scores, k))


def test_top_k_curve_is_nan_until_k_queries() -> None:
    curve = top_k_curve(np.array([3.0, 1.0, 2.0]), 2)
    assert np.isnan(curve[0])
    np.testing.assert_allclose(curve[1:], [2.0, 2.5])
    assert np.isnan(top_k_curve(np.array([1.0]), 5)).all()


def test_top_k_curve_rejects_nan_and_bad_k() -> None:
    with pytest.raises(ValueError, match="NaN"):
        top_k_curve(np.array([1.0, np.nan]), 1)
    with pytest.raises(ValueError, match="k must"):
        top_k_curve(np.array([1.0]), 0)


def test_load_run_reads_contract(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path / "seed3", np.arange(10.0), "weighted", 3))
    assert (run.experiment, run.seed) == ("weighted", 3)
    assert list(run.queries["query"]) == list(range(1, 11))
    arrays = run.arrays()
    assert arrays.images.shape == (10, 28, 28)
    assert arrays.snapshots is not None and arrays.snapshots.images.shape == (2, 9, 28, 28)


def test_load_run_arrays_without_snapshots(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", np.arange(4.0), latent_dim=16, snapshots=False)
    assert load_run_arrays(run_dir).snapshots is None


def test_load_run_missing_column_names_file(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", np.arange(5.0))
    csv = run_dir / "queries.csv"
    pd.read_csv(csv).drop(columns="model_version").to_csv(csv, index=False)
    with pytest.raises(InputError, match="queries.csv.*'model_version'"):
        load_run(run_dir)


def test_load_run_missing_files_and_keys(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="run.json"):
        load_run(tmp_path)
    run_dir = write_run(tmp_path / "run", np.arange(5.0))
    info = json.loads((run_dir / "run.json").read_text())
    del info["oracle_evaluations"]
    (run_dir / "run.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="run.json.*'oracle_evaluations'"):
        load_run(run_dir)


def test_load_run_rejects_row_count_mismatch(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", np.arange(5.0))
    info = json.loads((run_dir / "run.json").read_text())
    info["n_queries"] = 6
    (run_dir / "run.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="n_queries=6"):
        load_run(run_dir)


def test_load_run_arrays_checks_keys_and_shapes(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "run", np.arange(5.0))
    path = run_dir / "queries.npz"
    with np.load(path) as npz:
        data = dict(npz)
    np.savez(path, **{key: value for key, value in data.items() if key != "snapshot_grid"})
    with pytest.raises(InputError, match="queries.npz.*'snapshot_grid'"):
        load_run_arrays(run_dir)
    data["latents"] = np.zeros((4, 2))
    np.savez(path, **data)
    with pytest.raises(InputError, match="queries.npz: 'latents' has shape"):
        load_run_arrays(run_dir)


def make_run(
    experiment: str, seed: int, scores: list[float], wall: float = 1.0, budget: int | None = None
) -> Run:
    queries = pd.DataFrame({"score": scores})
    budget = len(scores) if budget is None else budget
    info = {
        "wall_seconds": wall,
        "oracle_evaluations": len(scores),
        "budget_spent": len(scores) == budget,
        "recentering_evaluations": 1,
        "settings": {"budget": budget},
    }
    return Run(experiment, seed, queries, info, Path("."))


def test_summarise_runs_numbers() -> None:
    runs = [
        make_run("b", 1, [1.0, 5.0, 3.0]),
        make_run("a", 0, [2.0, 4.0, 0.0]),
    ]
    summary = summarise_runs(runs, top_k=(1, 2, 10))
    assert list(summary.columns) == [
        "experiment",
        "seed",
        "queries",
        "budget",
        "budget_spent",
        "final_top1",
        "final_top2_mean",
        "final_top10_mean",
        "wall_seconds",
        "seconds_per_query",
        "oracle_evaluations",
        "recentering_evaluations",
    ]
    assert list(summary["experiment"]) == ["a", "b"]
    np.testing.assert_allclose(summary["final_top1"], [4.0, 5.0])
    np.testing.assert_allclose(summary["final_top2_mean"], [3.0, 4.0])
    assert summary["final_top10_mean"].isna().all()
    assert list(summary["queries"]) == [3, 3]
    np.testing.assert_allclose(summary["seconds_per_query"], [1 / 3, 1 / 3])
    assert list(summary["recentering_evaluations"]) == [1, 1]


def test_judged_runs_keep_their_own_validity_when_the_table_is_sorted(tmp_path) -> None:
    runs = []
    for experiment, validity in (("zeta", 0.25), ("alpha", 1.0)):
        run_dir = write_run(tmp_path / experiment, np.array([0.1, 0.2]), experiment=experiment)
        judged = {"validity": validity, "frechet_distance": 10 * validity, "digit": 3}
        (run_dir / "evaluation.json").write_text(json.dumps(judged))
        runs.append(load_run(run_dir))
    summary = summarise_runs(runs, top_k=(1,))
    assert list(summary["experiment"]) == ["alpha", "zeta"]
    assert list(summary["validity"]) == [1.0, 0.25]
    assert list(summary["frechet_distance"]) == [10.0, 2.5]


def test_comparison_table_lists_the_methods_in_order_with_mean_and_std() -> None:
    runs = [
        make_run("wr", 0, [1.0, 2.0], wall=2.0),
        make_run("wr", 1, [3.0, 1.0], wall=4.0),
        make_run("lolbo", 0, [0.5, 0.25], wall=1.0),
    ]
    summary = summarise_runs(runs, top_k=(1,))
    table = comparison_table(summary, ["wr", "lolbo"], {"wr": "weighted retraining"})
    assert list(table["method"]) == ["weighted retraining", "lolbo"]
    assert list(table["seeds"]) == [2, 1]
    assert list(table["final_top1"]) == ["2.5000 ± 0.7071", "0.5000 ± n/a"]
    assert list(table["seconds_per_query"]) == ["1.50 ± 0.71", "0.50 ± n/a"]
    assert list(table["recentering_evaluations"]) == ["1.0 ± 0.0", "1.0 ± n/a"]
    assert "validity" not in table.columns  # no run was judged


def test_mean_std_table_numbers() -> None:
    runs = [
        make_run("base", 0, [1.0], wall=2.0),
        make_run("base", 1, [3.0], wall=4.0),
        make_run("solo", 0, [0.5], wall=1.0),
    ]
    table = mean_std_table(summarise_runs(runs, top_k=(1,))).set_index("experiment")
    assert table.loc["base", "n_seeds"] == 2
    assert table.loc["base", "final_top1_mean"] == pytest.approx(2.0)
    assert table.loc["base", "final_top1_std"] == pytest.approx(np.sqrt(2.0))
    assert table.loc["base", "wall_seconds_mean"] == pytest.approx(3.0)
    assert table.loc["base", "top1 (mean ± std)"] == "2.0000 ± 1.4142"
    assert np.isnan(table.loc["solo", "final_top1_std"])
    assert table.loc["solo", "top1 (mean ± std)"] == "0.5000 ± n/a"
    assert "seed_mean" not in table.columns


def test_runs_short_of_their_budget_are_flagged() -> None:
    """A run that ended early is marked in both tables, never silently averaged."""
    runs = [
        make_run("e", 0, [1.0, 2.0, 3.0]),
        make_run("e", 1, [1.0, 2.0], budget=3),
        make_run("f", 0, [4.0]),
    ]
    summary = summarise_runs(runs, top_k=(1,))
    assert summary["budget_spent"].tolist() == [True, False, True]
    assert summary["budget"].tolist() == [3, 3, 1]
    table = mean_std_table(summary).set_index("experiment")
    assert table.loc["e", "runs_short_of_budget"] == 1
    assert table.loc["f", "runs_short_of_budget"] == 0
