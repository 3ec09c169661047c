"""The oracle classifier: shapes, evaluation-mode queries, learning, checkpoints, fit options."""

from __future__ import annotations

import pytest
import torch

from lso.core.training import evaluate_loss, fit
from lso.models.base import LatentModel
from lso.models.build import build_model
from lso.models.checkpoint import load_checkpoint, save_checkpoint
from lso.models.classifier import FEATURE_DIM, N_CLASSES, MnistClassifier
from lso.models.fitting import FitSettings
from lso.utils import InputError


def bar_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three classes of 28x28 images: a horizontal bar, a vertical bar or a diagonal line.

    Each bar sits at a random offset and the background has speckle noise, so the classes
    are learnable but not by a single pixel.
    """
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 3
    images = (torch.rand(n, 28, 28, generator=g) < 0.05).float()
    offsets = torch.randint(6, 22, (n,), generator=g)
    diagonal = torch.arange(4, 24)
    for i, (label, offset) in enumerate(zip(labels.tolist(), offsets.tolist(), strict=True)):
        if label == 0:
            images[i, offset - 1 : offset + 2, 4:24] = 1.0
        elif label == 1:
            images[i, 4:24, offset - 1 : offset + 2] = 1.0
        else:
            images[i, diagonal, (diagonal + offset - 14).clamp(0, 27)] = 1.0
    return images, labels


def test_shapes_probabilities_and_features() -> None:
    model = MnistClassifier()
    x = torch.rand(5, 28, 28)
    log_probs = model(x)
    assert log_probs.shape == (5, N_CLASSES)
    probs = model.predict_proba(x)
    assert torch.allclose(probs.sum(dim=1), torch.ones(5))
    assert model.features(x).shape == (5, FEATURE_DIM)


def test_queries_run_in_evaluation_mode_and_restore_the_mode() -> None:
    torch.manual_seed(0)
    model = MnistClassifier().train()
    x = torch.rand(4, 28, 28)
    first = model.predict_proba(x)
    assert model.training
    # Evaluation mode: no dropout noise and no batch statistics, so one image's answer does
    # not depend on what else is in the batch.
    assert torch.allclose(first, model.predict_proba(x))
    assert torch.allclose(first[:1], model.predict_proba(x[:1]), atol=1e-6)


def test_classifier_learns_three_synthetic_classes() -> None:
    # ~100 steps: far fewer leave batch norm's running statistics behind the weights, and
    # evaluation mode then answers one class for everything although training accuracy is high.
    torch.manual_seed(0)
    train_x, train_y = bar_images(96, seed=1)
    test_x, test_y = bar_images(60, seed=2)
    model = MnistClassifier()
    log = fit(
        model,
        train_x,
        FitSettings(8, 8, 1e-3),
        generator=torch.Generator().manual_seed(0),
        targets=train_y,
        val_images=test_x,
        val_targets=test_y,
    )
    accuracy = (model.predict_proba(test_x).argmax(dim=1) == test_y).float().mean()
    assert accuracy > 0.8  # chance is 1/3
    assert log.loc[log["split"] == "val", "accuracy"].iloc[-1] == pytest.approx(float(accuracy))


def test_checkpoint_round_trip_and_class_check(tmp_path) -> None:
    model = build_model("classifier", {"dropout": 0.3})
    x = torch.rand(3, 28, 28)
    path = tmp_path / "oracle.pt"
    save_checkpoint(model, path)
    loaded = load_checkpoint(path, expected=MnistClassifier)
    assert isinstance(loaded, MnistClassifier)
    assert loaded.hparams == {"dropout": 0.3}
    assert torch.allclose(loaded.predict_proba(x), model.predict_proba(x))
    assert isinstance(load_checkpoint(path), MnistClassifier)
    with pytest.raises(InputError, match="oracle.pt holds a 'classifier', expected a LatentModel"):
        load_checkpoint(path, expected=LatentModel)


def test_fit_checks_targets() -> None:
    model = MnistClassifier()
    x, y = bar_images(8, seed=0)
    settings = FitSettings(1, 4, 1e-3)
    with pytest.raises(InputError, match="targets has 7 entries"):
        fit(model, x, settings, generator=torch.Generator(), targets=y[:7])
    with pytest.raises(InputError, match="val_targets"):
        fit(model, x, settings, generator=torch.Generator(), targets=y, val_images=x)
    assert set(evaluate_loss(model, x, targets=y)) == {"loss", "accuracy"}
    rmsprop = FitSettings(1, 4, 1e-3, optimizer="rmsprop")
    assert len(fit(model, x, rmsprop, generator=torch.Generator(), targets=y)) == 2
    with pytest.raises(InputError, match="optimizer must be"):
        fit(model, x, FitSettings(1, 4, 1e-3, optimizer="sgd"), generator=torch.Generator())
