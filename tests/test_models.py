"""Models: shapes, loss terms, the beta schedule and checkpoint I/O."""

from __future__ import annotations

import math

import pytest
import torch

from lso.models.build import build_model
from lso.models.checkpoint import load_checkpoint, save_checkpoint
from lso.utils import InputError


@pytest.mark.parametrize("kind", ["vae", "rae"])
@pytest.mark.parametrize("latent_dim", [2, 16])
def test_encode_decode_shapes_and_finite_losses(kind: str, latent_dim: int) -> None:
    model = build_model(kind, {"latent_dim": latent_dim})
    x = (torch.rand(5, 28, 28) > 0.5).float()
    mean, log_var = model.encode(x)
    assert mean.shape == (5, latent_dim)
    assert (log_var is None) == (kind == "rae")
    probs = model.decode(mean)
    assert probs.shape == (5, 28, 28)
    assert torch.all((probs >= 0) & (probs <= 1))
    terms = model.loss(x)
    assert all(torch.isfinite(v) for v in terms.values())
    terms["loss"].backward()


def _constant_logits(model, logit: float) -> None:
    """Make the decoder output ``logit`` at every pixel, whatever the latent point."""
    last = model.decoder[-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.constant_(last.bias, logit)


def _bernoulli_nll(x: torch.Tensor, logit: float) -> float:
    """-log p(x) of binary images under independent pixels with one logit, mean per image."""
    p = 1 / (1 + math.exp(-logit))
    ones = float(x.sum())
    zeros = x.numel() - ones
    return -(ones * math.log(p) + zeros * math.log(1 - p)) / len(x)


def test_vae_loss_is_the_negative_elbo_with_weighted_kl() -> None:
    """With the encoder pinned to N(m, e^{2s}) and the decoder to one logit, every term has a
    closed form computed here independently of the model's code."""
    torch.manual_seed(0)
    model = build_model("vae", {"latent_dim": 2, "beta_start": 0.5})
    head = model.encoder[-1]
    torch.nn.init.zeros_(head.weight)
    mean, log_std = torch.tensor([0.3, -1.2]), torch.tensor([-0.5, 0.4])
    head.bias.data = torch.cat([mean, log_std])
    _constant_logits(model, 0.7)
    x = (torch.rand(4, 28, 28) > 0.5).float()
    terms = model.loss(x)
    kl = 0.5 * float((mean**2 + torch.exp(2 * log_std) - 1 - 2 * log_std).sum())
    assert terms["kl"].item() == pytest.approx(kl, rel=1e-6)
    assert terms["recon"].item() == pytest.approx(_bernoulli_nll(x, 0.7), rel=1e-6)
    assert terms["loss"].item() == pytest.approx(_bernoulli_nll(x, 0.7) + 0.5 * kl, rel=1e-6)


def test_vae_kl_vanishes_only_at_the_prior() -> None:
    model = build_model("vae", {"latent_dim": 3})
    head = model.encoder[-1]
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)  # mean 0, log std 0: the posterior is the prior
    x = (torch.rand(2, 28, 28) > 0.5).float()
    assert model.loss(x)["kl"].item() == pytest.approx(0.0, abs=1e-7)
    head.bias.data[0] = 1.0
    assert model.loss(x)["kl"].item() == pytest.approx(0.5, rel=1e-6)  # 0.5 * mean^2


def test_rae_loss_weights_its_regularisers() -> None:
    """Codes pinned to c, a constant decoder logit: recon and ||z||^2 have closed forms."""
    model = build_model("rae", {"latent_dim": 2, "latent_weight": 2.0, "decoder_weight": 0.5})
    head = model.encoder[-1]
    torch.nn.init.zeros_(head.weight)
    head.bias.data = torch.tensor([1.5, -2.0])
    _constant_logits(model, -0.3)
    x = (torch.rand(4, 28, 28) > 0.5).float()
    terms = model.loss(x)
    decoder_norm = sum(float(p.detach().pow(2).sum()) for p in model.decoder.parameters())
    assert terms["latent_norm"].item() == pytest.approx(1.5**2 + 2.0**2)
    assert terms["recon"].item() == pytest.approx(_bernoulli_nll(x, -0.3), rel=1e-6)
    expected = _bernoulli_nll(x, -0.3) + 2.0 * 6.25 + 0.5 * decoder_norm
    assert terms["loss"].item() == pytest.approx(expected, rel=1e-6)


def test_rae_decoder_penalty_is_the_squared_norm_of_its_weights() -> None:
    model = build_model("rae", {"latent_dim": 2})
    n_parameters = sum(p.numel() for p in model.decoder.parameters())
    for parameter in model.decoder.parameters():
        torch.nn.init.constant_(parameter, 0.1)
    terms = model.loss((torch.rand(2, 28, 28) > 0.5).float())
    assert terms["decoder_norm"].item() == pytest.approx(0.01 * n_parameters, rel=1e-5)


def test_beta_schedule_warms_up_then_grows_geometrically_to_its_cap() -> None:
    model = build_model(
        "vae",
        {
            "latent_dim": 2,
            "beta_start": 1.0,
            "beta_final": 2.0,
            "beta_warmup_steps": 3,
            "beta_step_factor": 1.5,
            "beta_step_every": 2,
        },
    )
    betas = []
    for _ in range(12):
        model.on_train_step()
        betas.append(float(model.beta))
    # steps 1-3 warm-up; then x1.5 at steps 5, 7 (capped at 2.0)
    assert betas[:4] == [1.0] * 4
    assert betas[4] == pytest.approx(1.5)
    assert betas[6] == pytest.approx(2.0)
    assert betas[-1] == pytest.approx(2.0)
    model.beta.fill_(1.0)
    model.finish_schedules()
    assert float(model.beta) == 2.0


def test_checkpoint_round_trip_restores_weights_and_schedule(tmp_path) -> None:
    model = build_model("vae", {"latent_dim": 3, "beta_final": 4.0})
    model.on_train_step()
    path = tmp_path / "model.pt"
    save_checkpoint(model, path)
    loaded = load_checkpoint(path)
    assert type(loaded) is type(model)
    assert loaded.hparams == model.hparams
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_bad_checkpoints_fail_with_the_file_name(tmp_path) -> None:
    missing = tmp_path / "missing.pt"
    with pytest.raises(InputError, match="missing.pt"):
        load_checkpoint(missing)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="garbage.pt"):
        load_checkpoint(garbage)
    wrong = tmp_path / "wrong.pt"
    torch.save({"class": "vae", "hparams": {"latent_dim": 2}, "state_dict": {}}, wrong)
    with pytest.raises(InputError, match="wrong.pt"):
        load_checkpoint(wrong)


def test_unknown_model_type_is_named() -> None:
    with pytest.raises(InputError, match="'gan'"):
        build_model("gan", {"latent_dim": 2})
    with pytest.raises(InputError, match="'vae'"):
        build_model("vae", {"latent_dim": 2, "no_such_hparam": 1})
