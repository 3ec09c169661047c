"""The thesis's CelebA VAE: layer shapes, outputs in [0, 1], beta schedule, checkpoints, fitting."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lso.core.training import fit
from lso.models.build import build_model
from lso.models.checkpoint import load_checkpoint, save_checkpoint
from lso.models.face_vae import FaceVAE
from lso.models.fitting import FitSettings
from lso.utils import InputError

TINY = {"latent_dim": 6, "widths": [8, 8, 16, 16]}


def _images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 64, 64, generator=torch.Generator().manual_seed(seed))


def test_encode_decode_shapes_and_range() -> None:
    torch.manual_seed(0)
    model = build_model("face_vae", TINY)
    mean, log_var = model.encode(_images(5))
    assert mean.shape == log_var.shape == (5, 6)
    images = model.decode(3.0 * torch.randn(5, 6))
    assert images.shape == (5, *model.image_shape) == (5, 3, 64, 64)
    assert torch.all((images >= 0) & (images <= 1))
    assert model.training  # encode and decode borrow evaluation mode, then give it back


def test_default_is_the_thesis_layer_stack() -> None:
    model = FaceVAE()
    convs = [m for m in model.encoder if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride) for c in convs] == [
        (3, 32, (2, 2)),
        (32, 64, (2, 2)),
        (64, 128, (2, 2)),
        (128, 256, (2, 2)),
        (256, 512, (2, 2)),
    ]
    assert (model.encoder[-1].in_features, model.encoder[-1].out_features) == (2048, 128)
    transposed = [m for m in model.decoder if isinstance(m, nn.ConvTranspose2d)]
    assert [t.out_channels for t in transposed] == [256, 128, 64, 32, 32]
    assert isinstance(model.encoder[1], nn.LeakyReLU)  # LeakyReLU, then batch norm
    assert isinstance(model.encoder[2], nn.BatchNorm2d)


def test_decoding_one_point_does_not_depend_on_its_batch() -> None:
    torch.manual_seed(0)
    model = build_model("face_vae", TINY)
    z = torch.randn(4, 6)
    assert torch.allclose(model.decode(z[:1]), model.decode(z)[:1], atol=1e-6)


def test_loss_is_recon_plus_beta_kl_with_sum_squared_error() -> None:
    torch.manual_seed(0)
    model = build_model("face_vae", {**TINY, "beta_start": 0.5})
    x = _images(4)
    terms = model.loss(x)
    assert set(terms) == {"loss", "recon", "kl", "beta"}
    assert torch.isclose(terms["loss"], terms["recon"] + 0.5 * terms["kl"])
    assert terms["kl"] >= 0
    assert (
        100 < float(terms["recon"].detach()) < 3 * 64 * 64
    )  # summed over 12288 pixels, not a mean


def test_beta_schedule_warms_up_then_grows_geometrically_to_its_cap() -> None:
    model = FaceVAE(
        widths=(8, 8, 16, 16),
        beta_start=1.0,
        beta_final=2.0,
        beta_warmup_steps=3,
        beta_step_factor=1.5,
        beta_step_every=2,
    )
    betas = []
    for _ in range(12):
        model.on_train_step()
        betas.append(float(model.beta))
    # steps 1-4 at beta_start; x1.5 at step 5, then x1.5 at step 7 (capped at 2.0)
    assert betas[:4] == [1.0] * 4
    assert betas[4:6] == pytest.approx([1.5, 1.5])
    assert betas[6:] == pytest.approx([2.0] * 6)
    model.beta.fill_(1e-6)
    model.finish_schedules()
    assert float(model.beta) == 2.0


def test_thesis_schedule_reaches_beta_final_after_129_growths() -> None:
    model = FaceVAE(widths=(8, 8, 16, 16))
    steps = 0
    while float(model.beta) < model.hparams["beta_final"]:
        model.on_train_step()
        steps += 1
    assert steps == 5000 + 129 * 50
    assert float(model.beta) == pytest.approx(0.21471)


def test_checkpoint_round_trip_gives_identical_decodings(tmp_path) -> None:
    torch.manual_seed(0)
    model = build_model("face_vae", TINY)
    fit(model, _images(16), FitSettings(1, 8, 1e-3), generator=torch.Generator().manual_seed(0))
    path = tmp_path / "face_vae.pt"
    save_checkpoint(model, path)
    loaded = load_checkpoint(path)
    assert type(loaded) is FaceVAE
    assert loaded.hparams == model.hparams
    assert int(loaded.step) == 2
    z = torch.randn(3, 6)
    assert torch.equal(loaded.decode(z), model.decode(z))


def test_a_few_training_steps_lower_the_loss() -> None:
    torch.manual_seed(0)
    model = build_model("face_vae", TINY)
    log = fit(
        model, _images(32), FitSettings(6, 8, 3e-3), generator=torch.Generator().manual_seed(0)
    )
    losses = log.loc[log["split"] == "train", "loss"].to_numpy()
    assert losses[-4:].mean() < 0.95 * losses[:4].mean()  # the floor is 12288 / 12 = 1024


def test_queries_are_8_bit_levels() -> None:
    torch.manual_seed(0)
    model = build_model("face_vae", TINY)
    levels = model.query_images(torch.randn(4, 6)) * 255
    assert torch.equal(levels, levels.round())
    assert levels.min() >= 0 and levels.max() <= 255


@pytest.mark.parametrize("widths", [[], [8] * 7])
def test_widths_must_fit_the_64_pixel_input(widths: list[int]) -> None:
    with pytest.raises(InputError, match="widths"):
        FaceVAE(widths=widths)
