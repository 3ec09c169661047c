"""Shared fixtures: a small real-digit data set and a briefly trained 2-D VAE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.data.mnist import load_mnist, prepare_digit_dataset
from lso.models import build_model
from lso.training import FitSettings, fit
from lso.utils import single_threaded


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
