"""The weighted-retraining loop: exact budgets, determinism, resuming, data updates."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import Interrupt
from lso.config.parse import run_settings_from, weighting_settings
from lso.core.loop import WeightedRetrainingRun, predictive_log_likelihood
from lso.core.runfiles import load_run, load_run_arrays
from lso.core.state import load_state, state_path_for
from lso.tasks.digits.objective import thickness
from lso.utils import InputError

SPEC = {
    "budget": 12,
    "retrain_every": 4,
    "retrain_epochs": 0.5,
    "initial_retrain_epochs": 0.5,
    "batch_size": 16,
    "lr": 1e-3,
    "weighting": {"type": "rank", "k": 1e-3},
    "constraint": {"type": "gmm_full", "threshold": -8.0},
    "optimizer": {"type": "grid", "bounds": 3.0, "grid_len": 12},
    "snapshot_grid_len": 5,
}
SETTINGS = run_settings_from(SPEC, latent_dim=2)
SEED = 7


def make_run(model, data, out, settings=SETTINGS, fingerprint="f"):
    return WeightedRetrainingRun(
        model,
        data,
        settings,
        thickness,
        seed=SEED,
        device=torch.device("cpu"),
        state_path=state_path_for(out),
        fingerprint=fingerprint,
    )


def finished(model, data, tmp_path, settings=SETTINGS):
    out = tmp_path / "seed7"
    run = make_run(model, data, out, settings)
    run.run()
    run.write_outputs(out, {"experiment": "test", "seed": SEED})
    return pd.read_csv(out / "queries.csv"), np.load(out / "queries.npz"), out


def test_spends_the_budget_exactly_and_writes_the_contract(trained_vae, digit_data, tmp_path):
    settings = SETTINGS._replace(budget=10)  # not a multiple of r
    queries, arrays, out = finished(trained_vae, digit_data, tmp_path, settings)
    assert len(queries) == 10
    assert queries["query"].tolist() == list(range(1, 11))
    assert queries.groupby("iteration").size().tolist() == [4, 4, 2]
    assert queries["model_version"].tolist() == [1] * 4 + [2] * 4 + [3] * 2
    assert np.allclose(queries["best_so_far"], np.maximum.accumulate(queries["score"]))
    assert arrays["images"].dtype == np.uint8  # stored compactly, 8 bits a pixel
    assert np.allclose(queries["score"], thickness(arrays["images"] / 255.0))
    assert (queries["log_density"] >= -8.0).all()
    assert arrays["latents"].shape == (10, 2)
    assert arrays["snapshot_images"].shape == (3, 25, 28, 28)
    assert arrays["snapshot_iterations"].tolist() == [0, 1, 2]
    info = json.loads((out / "run.json").read_text())
    assert info["budget_spent"] and info["n_queries"] == 10 and info["oracle_evaluations"] > 10
    assert not state_path_for(out).exists()  # the resume state goes once outputs exist


def test_queries_are_new_images(trained_vae, digit_data, tmp_path):
    _, arrays, _ = finished(trained_vae, digit_data, tmp_path)
    keys = {img.tobytes() for img in (arrays["images"] > 127)}
    assert len(keys) == len(arrays["images"])
    data_keys = {img.tobytes() for img in (digit_data["train_images"] > 0.5)}
    assert not keys & data_keys


def test_same_seed_same_numbers(trained_vae_state, trained_vae, digit_data, tmp_path):
    """Two runs of one seed on one machine agree to the last bit: queries, images, latent
    points, snapshots, diagnostics and run.json (all but wall-clock times). This, not a
    trajectory stored on another machine, is what keeps the loop's numbers from drifting:
    CPU float paths differ between machines and a search that branches on them diverges."""
    first, _, first_dir = finished(trained_vae, digit_data, tmp_path / "a")
    trained_vae.load_state_dict(trained_vae_state)
    second, _, second_dir = finished(trained_vae, digit_data, tmp_path / "b")
    columns = [c for c in first.columns if c != "seconds"]
    pd.testing.assert_frame_equal(first[columns], second[columns])
    a, b = load_run_arrays(first_dir), load_run_arrays(second_dir)
    for name in ("images", "latents", "scores", "iterations"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.snapshots.images, b.snapshots.images)
    timing = [c for c in pd.read_csv(first_dir / "diagnostics.csv").columns if "seconds" in c]
    pd.testing.assert_frame_equal(
        pd.read_csv(first_dir / "diagnostics.csv").drop(columns=timing),
        pd.read_csv(second_dir / "diagnostics.csv").drop(columns=timing),
    )
    info_a, info_b = load_run(first_dir).info, load_run(second_dir).info
    assert {k: v for k, v in info_a.items() if k != "wall_seconds"} == {
        k: v for k, v in info_b.items() if k != "wall_seconds"
    }


def test_the_grid_queries_each_round_in_descending_score(trained_vae, digit_data, tmp_path):
    """The grid oracle scores every valid new decode and queries the best first, so within a
    round the scores never rise, and every score is the black box's value of its image."""
    queries, arrays, _ = finished(trained_vae, digit_data, tmp_path)
    for _, round_scores in queries.groupby("iteration")["score"]:
        assert (np.diff(round_scores.to_numpy()) <= 0).all()
    assert np.array_equal(queries["score"].to_numpy(), thickness(arrays["images"] / 255.0))


def test_resume_after_interruption_equals_an_uninterrupted_run(
    trained_vae_state, trained_vae, digit_data, killed_and_resumed
):
    def make(out):
        trained_vae.load_state_dict(trained_vae_state)  # a fresh process loads the model
        return make_run(trained_vae, digit_data, out)

    reference, arrays = killed_and_resumed(make, stop_at=4)
    assert len(reference) == 12 and arrays["snapshot_images"].shape == (3, 25, 28, 28)


def test_state_from_other_settings_is_not_resumed(trained_vae, digit_data, tmp_path):
    out = tmp_path / "seed7"
    run = make_run(trained_vae, digit_data, out)
    with pytest.raises(Interrupt):
        run.run(on_round_end=lambda _: (_ for _ in ()).throw(Interrupt))
    assert load_state(state_path_for(out), "f") is not None
    assert load_state(state_path_for(out), "other settings") is None


def test_infinite_r_retrains_once_and_queries_in_one_batch(trained_vae, digit_data, tmp_path):
    settings = SETTINGS._replace(retrain_every=math.inf)
    queries, arrays, out = finished(trained_vae, digit_data, tmp_path, settings)
    assert len(queries) == 12
    assert set(queries["iteration"]) == {0}
    assert set(queries["model_version"]) == {1}
    assert json.loads((out / "run.json").read_text())["n_retrainings"] == 1


def test_the_grid_oracle_first_query_beats_the_typical_training_digit(
    trained_vae, digit_data, tmp_path
):
    """The oracle scores every decode of its grid: its first query is thicker than the median
    training digit (a sanity check of the oracle, not of weighted retraining)."""
    queries, _, _ = finished(trained_vae, digit_data, tmp_path)
    assert queries["score"].iloc[0] > np.median(digit_data["train_scores"])


def test_fb_keeps_the_data_size(trained_vae, digit_data, tmp_path):
    settings = SETTINGS._replace(weighting=weighting_settings({"type": "fb", "quantile": 0.5}))
    run = make_run(trained_vae, digit_data, tmp_path / "seed7", settings)
    run.run()
    assert len(run.state.data_scores) == len(digit_data["train_scores"])
    assert run.state.data_scores.max() >= digit_data["train_scores"].max()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": 0}, "budget"),
        ({"retrain_every": 0}, "retrain_every"),
        ({"retrain_every": 2.5}, "retrain_every"),
        ({"retrain_epochs": 0}, "retrain_epochs"),
    ],
)
def test_invalid_settings_name_the_key(change, message):
    with pytest.raises(InputError, match=message):
        run_settings_from({**SPEC, **change}, latent_dim=2)


def test_rounds_of_q_queries_within_an_iteration(trained_vae, digit_data, tmp_path):
    settings = SETTINGS._replace(optimizer=SETTINGS.optimizer._replace(batch_size=2))
    queries, _, out = finished(trained_vae, digit_data, tmp_path, settings)
    assert queries.groupby("iteration").size().tolist() == [4, 4, 4]
    assert queries["model_version"].tolist() == [1] * 4 + [2] * 4 + [3] * 4
    diagnostics = pd.read_csv(out / "diagnostics.csv")
    assert len(diagnostics) == 6
    assert diagnostics["retrain_seconds"].gt(0).tolist() == [True, False] * 3
    assert diagnostics["predictive_log_likelihood"].isna().all()  # the grid has no surrogate


def test_resume_in_the_middle_of_an_iteration(
    trained_vae_state, trained_vae, digit_data, killed_and_resumed
):
    settings = SETTINGS._replace(optimizer=SETTINGS.optimizer._replace(batch_size=2))

    def make(out):
        trained_vae.load_state_dict(trained_vae_state)
        return make_run(trained_vae, digit_data, out, settings)

    reference, _ = killed_and_resumed(make, stop_at=6)
    assert len(reference) == 12


def test_predictive_log_likelihood_is_the_gaussian_log_density():
    from scipy.stats import norm

    scores, mean, var = np.array([0.3, 0.5]), np.array([0.2, 0.6]), np.array([0.01, 0.04])
    expected = norm(mean, np.sqrt(var)).logpdf(scores).mean()
    assert predictive_log_likelihood(scores, mean, var) == pytest.approx(expected)
    assert math.isnan(predictive_log_likelihood(scores, None, None))


FACE_SPEC = {
    **SPEC,
    "budget": 6,
    "retrain_every": 2,
    "batch_size": 8,
    "constraint": {"type": "gmm_fit", "threshold": -1e9, "n_components": 2},
    "optimizer": {
        "type": "sampling",
        "surrogate": {"type": "dngo", "epochs": 5},
        "n_candidates": 200,
        "candidate_distribution": "normal",
    },
}


def redness(images: np.ndarray) -> np.ndarray:
    """A cheap black box over colour images: how much red outweighs green and blue."""
    return (2 * images[:, 0] - images[:, 1] - images[:, 2]).mean(axis=(1, 2)).astype(np.float64)


def test_a_faces_run_resumes_after_a_kill_to_identical_queries(killed_and_resumed):
    """64x64 colour images and a continuous model run through the same resumable loop."""
    from lso.models.build import build_model
    from lso.tasks.faces.drawing import draw_faces

    images = draw_faces(48, seed=0)[0].astype(np.float32) / 255
    data = {"train_images": images[:40], "val_images": images[40:]}
    data["train_scores"] = redness(data["train_images"])
    settings = run_settings_from(FACE_SPEC, latent_dim=4)
    torch.manual_seed(0)
    model = build_model("face_vae", {"latent_dim": 4, "widths": [8, 8, 16, 16]})
    initial = {k: v.clone() for k, v in model.state_dict().items()}

    def make_run(out):
        model.load_state_dict(initial)  # each run starts from a freshly loaded model
        return WeightedRetrainingRun(
            model,
            data,
            settings,
            redness,
            seed=SEED,
            device=torch.device("cpu"),
            state_path=state_path_for(out),
            fingerprint="faces",
        )

    reference, reference_arrays = killed_and_resumed(make_run, stop_at=2)
    assert len(reference) == 6 and reference_arrays["images"].shape == (6, 3, 64, 64)
    assert reference_arrays["images"].dtype == np.uint8  # 8-bit levels, stored compactly
