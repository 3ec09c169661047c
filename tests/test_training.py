"""The fit loop: fractional epochs, weighted resampling, validation rows, determinism."""

from __future__ import annotations

import numpy as np
import torch

from lso.core.training import fit
from lso.models.build import build_model
from lso.models.fitting import FitSettings, batch_indices


def test_fractional_epochs_give_that_fraction_of_the_batches() -> None:
    g = torch.Generator().manual_seed(0)
    batches = batch_indices(320, FitSettings(0.1, 32, 1e-3), None, g)
    assert len(batches) == 1
    assert len(batch_indices(320, FitSettings(2.5, 32, 1e-3), None, g)) == 25


def test_unweighted_epochs_visit_every_item_once() -> None:
    batches = batch_indices(64, FitSettings(1, 16, 1e-3), None, torch.Generator().manual_seed(0))
    assert sorted(torch.cat(batches).tolist()) == list(range(64))


def test_weighted_batches_follow_the_weights() -> None:
    weights = np.ones(100)
    weights[:10] = 90.0  # the first ten items carry 90 % of the weight
    batches = batch_indices(
        100, FitSettings(20, 50, 1e-3), weights, torch.Generator().manual_seed(0)
    )
    drawn = torch.cat(batches)
    assert abs(float((drawn < 10).float().mean()) - 0.9) < 0.03


def test_fit_logs_train_steps_and_validation_and_is_deterministic(digit_data) -> None:
    images = torch.as_tensor(digit_data["train_images"][:64])
    val = torch.as_tensor(digit_data["val_images"])

    def run():
        torch.manual_seed(0)
        model = build_model("vae", {"latent_dim": 2})
        log = fit(
            model,
            images,
            FitSettings(2, 16, 1e-3),
            generator=torch.Generator().manual_seed(1),
            val_images=val,
        )
        return model, log

    (model_a, log_a), (model_b, log_b) = run(), run()
    assert (log_a.split == "train").sum() == 8
    assert (log_a.split == "val").sum() == 2
    assert {"recon", "kl", "beta"} <= set(log_a.columns)
    assert log_a.equals(log_b)
    for key, value in model_a.state_dict().items():
        assert torch.equal(value, model_b.state_dict()[key])


def test_training_reduces_the_loss(digit_data) -> None:
    images = torch.as_tensor(digit_data["train_images"])
    torch.manual_seed(0)
    model = build_model("rae", {"latent_dim": 2})
    log = fit(
        model,
        images,
        FitSettings(3, 16, 1e-3),
        generator=torch.Generator().manual_seed(0),
        val_images=torch.as_tensor(digit_data["val_images"]),
    )
    val = log[log.split == "val"].loss.to_numpy()
    assert val[-1] < val[0]
