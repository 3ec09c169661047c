"""Temperature scaling and calibration metrics; the ResNet attribute classifier."""

from __future__ import annotations

import pytest
import torch

from lso.core.training import fit
from lso.models.fitting import FitSettings
from lso.models.resnet import ResNetClassifier
from lso.tasks.faces.calibration import calibration_metrics, expected_level, fit_temperature
from lso.utils import InputError


def overconfident_logits(n: int = 2000, classes: int = 6, seed: int = 0):
    """Logits of a model that is right about 70 % of the time but claims near-certainty."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=generator)
    logits = torch.randn(n, classes, generator=generator)
    right = torch.rand(n, generator=generator) < 0.7
    logits[right, labels[right]] += 2.0
    return 6.0 * logits, labels  # ×6: far sharper than the evidence


def test_temperature_scaling_lowers_nll_and_ece_of_an_overconfident_model() -> None:
    logits, labels = overconfident_logits()
    temperature = fit_temperature(logits, labels)
    before = calibration_metrics(logits, labels)
    after = calibration_metrics(logits, labels, temperature)
    assert temperature > 3.0  # it undoes most of the ×6
    assert after["nll"] < 0.6 * before["nll"]
    assert after["ece"] < 0.5 * before["ece"]
    assert after["accuracy"] == before["accuracy"]  # one temperature keeps every argmax


def test_a_calibrated_model_keeps_a_temperature_near_one() -> None:
    logits, labels = overconfident_logits()
    calibrated = logits / fit_temperature(logits, labels)
    assert fit_temperature(calibrated, labels) == pytest.approx(1.0, abs=0.02)


def test_expected_level_is_the_mean_class() -> None:
    logits = torch.log(torch.tensor([[1.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0.5, 0.5]]) + 1e-12)
    torch.testing.assert_close(expected_level(logits), torch.tensor([0.0, 4.5]), atol=1e-6, rtol=0)
    flat = expected_level(torch.zeros(1, 6))
    assert float(flat) == pytest.approx(2.5)
    with pytest.raises(InputError, match="labels"):
        calibration_metrics(torch.zeros(3, 6), torch.zeros(2))


def test_the_resnet_classifies_colour_images_and_learns() -> None:
    torch.manual_seed(0)
    model = ResNetClassifier(n_classes=2, widths=(8, 16), blocks=(1, 1), input_size=32)
    images = torch.rand(64, 3, 64, 64)
    labels = (images[:, 0].mean(dim=(1, 2)) > images[:, 2].mean(dim=(1, 2))).long()
    images[labels == 1, 0] += 0.5  # an easy, learnable colour cue
    images = images.clamp(0, 1)
    assert model.predict_logits(images).shape == (64, 2)
    assert model.features(images).shape == (64, 16)
    log = fit(
        model,
        images,
        FitSettings(epochs=15, batch_size=16, lr=3e-3),
        generator=torch.Generator().manual_seed(0),
        targets=labels,
    )
    train = log[log.split == "train"]
    assert train.loss.iloc[-4:].mean() < 0.5 * train.loss.iloc[:4].mean()
    accuracy = (model.predict_logits(images).argmax(1) == labels).float().mean()
    assert accuracy > 0.9
