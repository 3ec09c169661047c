"""The VAE trained jointly with a label predictor: losses, gradients, predictions, checkpoints."""

from __future__ import annotations

import pytest
import torch

from lso.core.training import fit
from lso.models.build import build_model
from lso.models.checkpoint import load_checkpoint, save_checkpoint
from lso.models.fitting import FitSettings
from lso.models.joint_vae import JointVAE
from lso.utils import InputError


def batch(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return (torch.rand(n, 28, 28, generator=g) > 0.5).float(), torch.arange(n) % 10


@pytest.mark.parametrize("predictor", ["classifier", "regressor"])
def test_loss_is_vae_terms_plus_weighted_predictor_loss(predictor: str) -> None:
    torch.manual_seed(0)
    model = build_model(
        "joint_vae", {"latent_dim": 2, "predictor": predictor, "predictor_weight": 7.0, "beta": 0.5}
    )
    x, y = batch()
    terms = model.loss(x, y)
    assert all(torch.isfinite(v) for v in terms.values())
    assert torch.isclose(terms["vae"], terms["recon"] + 0.5 * terms["kl"])
    assert torch.isclose(terms["loss"], terms["vae"] + 7.0 * terms["predictor"])
    assert ("accuracy" in terms) == (predictor == "classifier")


def test_predictor_losses_are_cross_entropy_and_squared_error() -> None:
    x, y = batch()
    classifier = JointVAE(predictor="classifier")
    mean, _ = classifier.encode(x)
    expected = torch.nn.functional.cross_entropy(classifier.predictor(mean), y)
    assert torch.isclose(classifier.loss(x, y)["predictor"], expected)
    regressor = JointVAE(predictor="regressor")
    mean, _ = regressor.encode(x)
    expected = (regressor.predictor(mean).squeeze(1) - y.float()).pow(2).mean()
    assert torch.isclose(regressor.loss(x, y)["predictor"], expected)


def test_off_model_is_a_plain_vae_and_ignores_labels() -> None:
    model = build_model("joint_vae", {"latent_dim": 2, "predictor": "off"})
    x, y = batch()
    torch.manual_seed(0)
    without = model.loss(x)
    torch.manual_seed(0)
    with_labels = model.loss(x, y)
    assert "predictor" not in without
    assert torch.isclose(without["loss"], without["recon"] + without["kl"])
    assert torch.isclose(without["loss"], with_labels["loss"])
    assert not any(name.startswith("predictor") for name, _ in model.named_parameters())


def test_predictor_gradient_reaches_the_encoder_but_not_the_decoder() -> None:
    model = JointVAE(predictor="classifier")
    x, y = batch()
    model.loss(x, y)["predictor"].backward()
    encoder_grad = model.encoder[0][0].weight.grad
    assert encoder_grad is not None and encoder_grad.abs().sum() > 0
    assert all(p.grad is None for p in model.decoder.parameters())


def test_predict_gives_probabilities_or_values() -> None:
    t = torch.randn(5, 2)
    probs = JointVAE(predictor="classifier").predict(t)
    assert probs.shape == (5, 10)
    assert torch.allclose(probs.sum(dim=1), torch.ones(5))
    assert JointVAE(predictor="regressor").predict(t).shape == (5,)
    with pytest.raises(InputError, match="'off'"):
        JointVAE(predictor="off").predict(t)


def test_bad_settings_and_missing_labels_raise() -> None:
    with pytest.raises(InputError, match="predictor must be one of"):
        build_model("joint_vae", {"latent_dim": 2, "predictor": "softmax"})
    with pytest.raises(InputError, match="needs labels"):
        JointVAE(predictor="regressor").loss(batch()[0])


def test_checkpoint_round_trip(tmp_path) -> None:
    model = build_model("joint_vae", {"latent_dim": 2, "predictor": "regressor"})
    path = tmp_path / "joint.pt"
    save_checkpoint(model, path)
    loaded = load_checkpoint(path)
    assert isinstance(loaded, JointVAE)
    assert loaded.hparams == model.hparams
    t = torch.randn(3, 2)
    assert torch.allclose(loaded.predict(t), model.predict(t))
    assert torch.allclose(loaded.decode(t), model.decode(t))


def test_fit_with_labels_lowers_the_predictor_loss() -> None:
    torch.manual_seed(0)
    model = JointVAE(predictor="classifier")
    x, y = batch(32)
    y = y % 2
    log = fit(
        model,
        x,
        FitSettings(8, 8, 2e-3),
        generator=torch.Generator().manual_seed(0),
        targets=y,
        val_images=x,
        val_targets=y,
    )
    val = log[log["split"] == "val"]
    assert {"recon", "kl", "predictor", "accuracy"} <= set(log.columns)
    assert val["predictor"].iloc[-1] < val["predictor"].iloc[0]
