"""Shared fixtures: a small real-digit data set and a briefly trained 2-D VAE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import Interrupt
from lso.core.training import fit
from lso.models.build import build_model
from lso.models.fitting import FitSettings
from lso.runtime import single_threaded
from lso.tasks.digits.dataset import prepare_digit_dataset
from lso.tasks.digits.mnist import load_mnist


@pytest.fixture
def single_thread():
    """Small-matrix linear algebra is fastest (and immune to busy cores) on one thread."""
    with single_threaded():
        yield


VAE_HPARAMS = {"latent_dim": 2, "beta_final": 1.0, "beta_warmup_steps": 20, "beta_step_every": 1}


@pytest.fixture(scope="session")
def digit_data() -> dict[str, np.ndarray]:
    """120 binarised threes from the embedded MNIST subset, 10 % held out for validation."""
    images, labels = load_mnist("embedded")
    keep = np.flatnonzero(labels == 3)[:120]
    return prepare_digit_dataset(
        images[keep],
        labels[keep],
        digit=3,
        binarize_threshold=0,
        val_fraction=0.1,
        holdout_top_fraction=0.0,
        seed=0,
    )


@pytest.fixture(scope="session")
def trained_vae_state(digit_data: dict[str, np.ndarray]) -> dict:
    """State of a 2-D VAE trained for 240 steps (a few seconds): it decodes recognisable threes."""
    torch.manual_seed(0)
    model = build_model("vae", VAE_HPARAMS)
    fit(
        model,
        torch.as_tensor(digit_data["train_images"]),
        FitSettings(40, 16, 2e-3),
        generator=torch.Generator().manual_seed(0),
    )
    return model.state_dict()


@pytest.fixture
def trained_vae(trained_vae_state: dict):
    model = build_model("vae", VAE_HPARAMS)
    model.load_state_dict(trained_vae_state)
    return model.eval()


def _run_to_end(make_run, out, stop_at: int | None = None):
    """Run ``make_run(out)`` to its end (or raise ``Interrupt`` after the first round that
    reaches ``stop_at`` queries: a round of LOL-BO's may add its recentred points to its own);
    return its queries table and arrays."""
    run = make_run(out)

    def stop(n_queries: int) -> None:
        if stop_at is not None and n_queries >= stop_at:
            raise Interrupt

    run.run(on_round_end=stop)
    run.write_outputs(out, {"experiment": out.name, "seed": 0})
    return pd.read_csv(out / "queries.csv"), np.load(out / "queries.npz")


@pytest.fixture
def killed_and_resumed(tmp_path):
    """A check that a run killed after ``stop_at`` queries (the end of the first round that
    reaches them) and resumed ends with exactly the queries of an uninterrupted one (every
    column but wall time, the latents, the images, the latent snapshots); it returns the
    uninterrupted run's (queries table, arrays). ``make_run(out)`` must build the run from a
    freshly loaded model each time, as a restarted job does."""

    def check(make_run, stop_at: int):
        table, arrays = _run_to_end(make_run, tmp_path / "reference")
        with pytest.raises(Interrupt):
            _run_to_end(make_run, tmp_path / "resumed", stop_at)
        resumed_table, resumed_arrays = _run_to_end(make_run, tmp_path / "resumed")
        columns = [c for c in table.columns if c != "seconds"]
        pd.testing.assert_frame_equal(table[columns], resumed_table[columns])
        assert np.array_equal(arrays["latents"], resumed_arrays["latents"])
        assert np.array_equal(arrays["images"], resumed_arrays["images"])
        for key in set(arrays.files) & {"snapshot_images", "snapshot_iterations"}:
            assert np.array_equal(arrays[key], resumed_arrays[key]), key
        return table, arrays

    return check
